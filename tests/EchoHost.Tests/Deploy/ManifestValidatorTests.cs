using System.Text.Json.Nodes;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>
/// .ci/node/validate-k8s.mjs really catches mistakes: the schema models alone would accept a misspelt field, so the
/// script adds that check; these tests keep it honest, for core objects and prometheus-operator's alike.
/// </summary>
public sealed class ManifestValidatorTests
{
    private const string Valid = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: demo
          labels:
            any.label/is-fine: "yes"
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: demo
          template:
            metadata:
              labels:
                app: demo
            spec:
              containers:
                - name: demo
                  image: demo
                  resources:
                    limits:
                      memory: 64Mi
                  readinessProbe:
                    httpGet:
                      path: /readyz
                      port: http
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata:
          name: demo
        spec:
          selector:
            matchLabels:
              app: demo
          endpoints:
            - port: http
              path: /metrics
              interval: 15s
        """;

    [ToolFact(NodeTools)]
    public async Task Accepts_valid_objects_and_prints_them_as_json()
    {
        var output = (await RunNodeScriptAsync("validate-k8s.mjs", Valid)).EnsureSuccess();

        var objects = JsonNode.Parse(output)!.AsArray();
        Assert.Equal(["Deployment", "ServiceMonitor"], objects.Select(o => o!.Text("kind")));
        Assert.Equal(2, objects[0]!.Number("spec", "replicas"));
    }

    public static TheoryData<string, string, string> Mistakes => new()
    {
        { "path: /readyz", "paht: /readyz", "Deployment/demo: unknown field /spec/template/spec/containers/0/readinessProbe/httpGet/paht" },
        { "  replicas: 2", "  replicas: \"2\"", "Deployment/demo: data/spec/replicas must be integer" },
        { "kind: Deployment", "kind: Deploymnet", "Deploymnet/demo: unknown apiVersion/kind apps/v1 Deploymnet" },
        { "path: /metrics", "pathh: /metrics", "ServiceMonitor/demo: unknown field /spec/endpoints/0/pathh" },
        { "port: http\n      path", "port: 8080\n      path", "ServiceMonitor/demo: data/spec/endpoints/0/port must be string" },
        { "interval: 15s", "interval: 15 seconds", "ServiceMonitor/demo: data/spec/endpoints/0/interval must match pattern" },
    };

    [ToolTheory(NodeTools)]
    [MemberData(nameof(Mistakes))]
    public async Task Rejects_an_unknown_field_a_wrong_type_or_an_unknown_kind(string original, string mistake, string expectedError)
    {
        Assert.Equal(1, Valid.Split(original).Length - 1);

        var result = await RunNodeScriptAsync("validate-k8s.mjs", Valid.Replace(original, mistake));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"validate-k8s: {expectedError}", result.StandardError);
        Assert.Empty(result.StandardOutput);
    }

    [ToolFact(NodeTools)]
    public async Task Rejects_empty_input()
    {
        var result = await RunNodeScriptAsync("validate-k8s.mjs", "");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no objects", result.StandardError);
    }
}
