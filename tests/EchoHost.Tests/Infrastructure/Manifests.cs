using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// The objects a kustomization renders to (<c>kubectl kustomize</c>), each checked against its schema by
/// .ci/node/validate-k8s.mjs. Rendered once per kustomization for the whole test run.
/// </summary>
internal sealed class Manifests
{
    public const string Base = "deploy/kubernetes";

    public const string Production = "deploy/kubernetes/overlays/production";

    /// <summary>The base with prometheus-operator's ServiceMonitor (components/servicemonitor).</summary>
    public const string Monitored = "deploy/kubernetes/overlays/monitored";

    private static readonly ConcurrentDictionary<string, Lazy<Task<Manifests>>> _rendered = new();

    private Manifests(IReadOnlyList<JsonObject> objects) => Objects = objects;

    public IReadOnlyList<JsonObject> Objects { get; }

    public JsonObject Deployment => Single("Deployment");

    /// <summary>The Service clients reach: the echo, chat and UDP ports.</summary>
    public JsonObject Service => Named("Service", "echohost");

    /// <summary>The cluster-internal Service of the HTTP endpoint (metrics, health): never exposed with the others.</summary>
    public JsonObject HttpService => Named("Service", "echohost-http");

    public JsonNode PodTemplate => Deployment.At("spec", "template");

    public JsonNode PodSpec => PodTemplate.At("spec");

    public JsonObject Container => Assert.Single(PodSpec.Objects("containers"));

    /// <summary>The ConfigMap the container reads its environment from, as environment variables.</summary>
    public Dictionary<string, string> Settings
    {
        get
        {
            var name = Assert.Single(Container.Objects("envFrom")).Text("configMapRef", "name");
            var configMap = Assert.Single(Objects, o => o.Text("kind") == "ConfigMap" && o.Text("metadata", "name") == name);
            return configMap.Map("data");
        }
    }

    public JsonObject Single(string kind) => Assert.Single(Objects, o => o.Text("kind") == kind);

    public JsonObject Named(string kind, string name) =>
        Assert.Single(Objects, o => o.Text("kind") == kind && o.Text("metadata", "name") == name);

    public static Task<Manifests> RenderAsync(string kustomization) =>
        _rendered.GetOrAdd(kustomization, k => new Lazy<Task<Manifests>>(() => RenderUncachedAsync(k))).Value;

    private static async Task<Manifests> RenderUncachedAsync(string kustomization)
    {
        var yaml = (await ExternalTools.RunAsync(ExternalTools.Kubectl, ["kustomize", Repository.Path(kustomization)])).EnsureSuccess();
        var json = (await ExternalTools.RunNodeScriptAsync("validate-k8s.mjs", yaml)).EnsureSuccess();
        return new Manifests(JsonNode.Parse(json)!.AsArray().Select(o => o!.AsObject()).ToList());
    }
}
