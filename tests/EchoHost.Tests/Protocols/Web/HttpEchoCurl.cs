using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>What curl got: the final status, headers (names in lower case) and body.</summary>
internal sealed record CurlResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : string.Empty;
}

/// <summary>The real curl (<c>curl -sS -i</c>) against the echo, with its answer parsed.</summary>
internal static class HttpEchoCurl
{
    public static async Task<CurlResponse> RunAsync(params string[] arguments)
    {
        // Expect: 100-continue off, so the output has one header block per request.
        var result = await ExternalTools.RunAsync(ExternalTools.Curl, ["-sS", "-i", "--max-time", "100", "-H", "Expect:", .. arguments]);
        return Parse(result.EnsureSuccess());
    }

    private static CurlResponse Parse(string output)
    {
        var end = output.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, $"no header block in curl's output:\n{output}");
        var lines = output[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(line => line.Split(':', 2))
            .ToDictionary(parts => parts[0].Trim().ToLowerInvariant(), parts => parts[1].Trim());
        return new CurlResponse(status, headers, output[(end + 4)..]);
    }
}
