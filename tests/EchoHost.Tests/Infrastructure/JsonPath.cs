using System.Text.Json.Nodes;

namespace EchoHost.Tests.Infrastructure;

/// <summary>Reading nested manifest fields with a clear failure naming the missing path.</summary>
internal static class JsonPath
{
    public static JsonNode At(this JsonNode node, params string[] path)
    {
        var current = node;
        for (var i = 0; i < path.Length; i++)
        {
            current = current[path[i]] ?? throw new Xunit.Sdk.XunitException($"{string.Join('.', path[..(i + 1)])} is missing in {node.ToJsonString()}");
        }

        return current;
    }

    public static JsonNode? Find(this JsonNode node, params string[] path)
    {
        JsonNode? current = node;
        foreach (var key in path)
        {
            current = current?[key];
        }

        return current;
    }

    public static string Text(this JsonNode node, params string[] path) => node.At(path).GetValue<string>();

    public static int Number(this JsonNode node, params string[] path) => node.At(path).GetValue<int>();

    public static IEnumerable<JsonObject> Objects(this JsonNode node, params string[] path) => node.At(path).AsArray().Select(item => item!.AsObject());

    /// <summary>A string-to-string map such as labels, a selector or ConfigMap data.</summary>
    public static Dictionary<string, string> Map(this JsonNode node, params string[] path) =>
        node.At(path).AsObject().ToDictionary(entry => entry.Key, entry => entry.Value!.GetValue<string>());
}
