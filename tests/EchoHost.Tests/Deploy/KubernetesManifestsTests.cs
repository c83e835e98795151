using System.Globalization;
using System.Text.Json.Nodes;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>
/// deploy/kubernetes and its overlay, rendered by <c>kubectl kustomize</c> and schema-checked: what a cluster would
/// receive from <c>kubectl apply -k</c>.
/// </summary>
public sealed class KubernetesManifestsTests
{
    public static TheoryData<string> Kustomizations => [Manifests.Base, Manifests.Production, Manifests.Monitored];

    /// <summary>The kustomizations for a cluster with prometheus-operator: they add its ServiceMonitor.</summary>
    public static TheoryData<string> WithServiceMonitor => [Manifests.Production, Manifests.Monitored];

    private const string NameLabel = "app.kubernetes.io/name";

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Renders_its_objects_each_valid_and_labelled(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);
        string[] kinds = ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "Service"];

        Assert.Equal(
            kustomization == Manifests.Base ? kinds : [.. kinds, "ServiceMonitor"],
            manifests.Objects.Select(o => o.Text("kind")).Order());
        Assert.All(manifests.Objects, o => Assert.Equal("echohost", o.Map("metadata", "labels")[NameLabel]));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_selector_matches_the_pods_or_their_service(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);
        var podLabels = manifests.PodTemplate.Map("metadata", "labels");
        var httpServiceLabels = manifests.HttpService.Map("metadata", "labels");

        AssertSelects(manifests.Deployment.Map("spec", "selector", "matchLabels"), podLabels);
        AssertSelects(manifests.Service.Map("spec", "selector"), podLabels);
        AssertSelects(manifests.HttpService.Map("spec", "selector"), podLabels);
        AssertSelects(manifests.Single("PodDisruptionBudget").Map("spec", "selector", "matchLabels"), podLabels);
        // A ServiceMonitor selects Services, and scrapes the pods behind them: only the HTTP one.
        if (manifests.Objects.Any(o => o.Text("kind") == "ServiceMonitor"))
        {
            var monitorSelector = manifests.Single("ServiceMonitor").Map("spec", "selector", "matchLabels");
            AssertSelects(monitorSelector, httpServiceLabels);
            Assert.Contains(monitorSelector, pair => manifests.Service.Map("metadata", "labels").GetValueOrDefault(pair.Key) != pair.Value);
        }
    }

    [ToolFact(Kubectl, NodeTools)]
    public async Task The_base_applies_on_a_cluster_without_custom_resources()
    {
        var manifests = await Manifests.RenderAsync(Manifests.Base);

        // kind and minikube have no prometheus-operator: an object of its CRDs would fail the whole apply.
        Assert.All(manifests.Objects, o => Assert.Contains(o.Text("apiVersion"), new[] { "v1", "apps/v1", "policy/v1" }));
    }

    /// <summary>An empty selector would select everything (for a PodDisruptionBudget, every pod in the namespace).</summary>
    private static void AssertSelects(Dictionary<string, string> selector, Dictionary<string, string> labels)
    {
        Assert.NotEmpty(selector);
        Assert.All(selector, pair => Assert.Equal(pair.Value, labels.GetValueOrDefault(pair.Key)));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Probes_ask_the_http_port_for_readyz_and_healthz(string kustomization)
    {
        var container = (await Manifests.RenderAsync(kustomization)).Container;

        var http = Assert.Single(container.Objects("ports"), p => p.Text("name") == "http");
        Assert.Equal(8080, http.Number("containerPort"));
        Assert.Equal("TCP", http.Text("protocol"));
        AssertHttpGet(container.At("readinessProbe"), "/readyz");
        AssertHttpGet(container.At("livenessProbe"), "/healthz");
        // A slow first start is the startup probe's business, so the liveness probe can stay strict.
        var startup = container.At("startupProbe");
        AssertHttpGet(startup, "/healthz");
        Assert.True(startup.Number("periodSeconds") * startup.Number("failureThreshold") >= 30, "the startup probe allows at least 30 s to start");
    }

    private static void AssertHttpGet(JsonNode probe, string path)
    {
        Assert.Equal(path, probe.Text("httpGet", "path"));
        Assert.Equal("http", probe.Text("httpGet", "port"));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Runs_as_the_image_user_with_a_read_only_root_and_no_privileges(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);
        var pod = manifests.PodSpec.Find("securityContext");
        var container = manifests.Container.At("securityContext");
        // A container's setting overrides the pod's.
        JsonNode? Effective(string key) => container[key] ?? pod?[key];

        Assert.True(Effective("runAsNonRoot")?.GetValue<bool>());
        Assert.Equal(1654, Effective("runAsUser")?.GetValue<int>());
        Assert.Equal(1654, Effective("runAsGroup")?.GetValue<int>());
        Assert.Equal("RuntimeDefault", Effective("seccompProfile")?.Text("type"));
        Assert.True(container.At("readOnlyRootFilesystem").GetValue<bool>());
        Assert.False(container.At("allowPrivilegeEscalation").GetValue<bool>());
        Assert.Equal(["ALL"], container.At("capabilities", "drop").AsArray().Select(c => c!.GetValue<string>()));
        Assert.Null(container.Find("capabilities", "add"));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Tmp_is_a_writable_empty_dir(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);

        var mount = Assert.Single(manifests.Container.Objects("volumeMounts"), m => m.Text("mountPath") == "/tmp");
        var volume = Assert.Single(manifests.PodSpec.Objects("volumes"), v => v.Text("name") == mount.Text("name"));
        Assert.NotNull(volume.Find("emptyDir"));
        Assert.Null(mount.Find("readOnly"));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Requests_and_limits_cpu_and_memory(string kustomization)
    {
        var resources = (await Manifests.RenderAsync(kustomization)).Container.At("resources");

        foreach (var kind in new[] { "requests", "limits" })
        {
            Assert.Equal(["cpu", "memory"], resources.Map(kind).Keys.Order());
        }
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Grace_period_outlasts_the_preStop_sleep_plus_the_shutdown_timeout(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);

        // The image has no shell: the preStop hook must be the native sleep action, not `exec: sleep`.
        var preStop = manifests.Container.At("lifecycle", "preStop");
        Assert.Null(preStop.Find("exec"));
        var preStopSeconds = preStop.Number("sleep", "seconds");
        Assert.True(preStopSeconds > 0);
        var shutdownTimeout = TimeSpan.Parse(manifests.Settings["EchoHost__ShutdownTimeout"], CultureInfo.InvariantCulture);
        var grace = manifests.PodSpec.Number("terminationGracePeriodSeconds");

        Assert.True(
            grace > preStopSeconds + shutdownTimeout.TotalSeconds,
            $"terminationGracePeriodSeconds {grace} must exceed preStop {preStopSeconds} s + EchoHost__ShutdownTimeout {shutdownTimeout.TotalSeconds} s");
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task ConfigMap_sets_only_keys_the_host_accepts(string kustomization)
    {
        var settings = (await Manifests.RenderAsync(kustomization)).Settings;
        Assert.All(settings.Keys, key => Assert.Matches("^(EchoHost|Serilog)__", key));

        // What the host does at start: the environment over the shipped appsettings.json, then the strict check
        // that refuses unknown keys and values of the wrong type.
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Repository.Path("appsettings.json"))
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":"), (string?)s.Value)))
            .Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);

        var result = TestProtocols.Validator().Validate(null, options);
        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal("*", options.Address);
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task Services_and_container_expose_the_six_named_ports(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);
        (string Name, int Port, string Protocol)[] traffic =
            [("echo", 65432, "TCP"), ("chat", 65433, "TCP"), ("irc", 6667, "TCP"), ("web", 8081, "TCP"), ("udp-echo", 65400, "UDP")];
        (string Name, int Port, string Protocol) http = ("http", 8080, "TCP");

        var servicePorts = manifests.Service.Objects("spec", "ports").ToList();
        Assert.Equal(traffic, servicePorts.Select(p => (p.Text("name"), p.Number("port"), p.Text("protocol"))));
        var httpPorts = manifests.HttpService.Objects("spec", "ports").ToList();
        Assert.Equal([http], httpPorts.Select(p => (p.Text("name"), p.Number("port"), p.Text("protocol"))));
        var containerPorts = manifests.Container.Objects("ports").ToList();
        Assert.Equal([.. traffic, http], containerPorts.Select(p => (p.Text("name"), p.Number("containerPort"), p.Text("protocol"))));
        // Named target ports: the Services follow the container if a port number ever changes.
        Assert.All(servicePorts.Concat(httpPorts), p => Assert.Equal(p.Text("name"), p.Text("targetPort")));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(WithServiceMonitor))]
    public async Task ServiceMonitor_scrapes_metrics_on_the_http_port(string kustomization)
    {
        var monitor = (await Manifests.RenderAsync(kustomization)).Single("ServiceMonitor");

        Assert.Equal("monitoring.coreos.com/v1", monitor.Text("apiVersion"));
        var endpoint = Assert.Single(monitor.Objects("spec", "endpoints"));
        Assert.Equal("http", endpoint.Text("port"));
        Assert.Equal("/metrics", endpoint.Text("path"));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task PodDisruptionBudget_lets_drains_take_one_pod_at_a_time(string kustomization)
    {
        var budget = (await Manifests.RenderAsync(kustomization)).Single("PodDisruptionBudget");

        Assert.Equal("policy/v1", budget.Text("apiVersion"));
        Assert.Equal(1, budget.Number("spec", "maxUnavailable"));
        Assert.Null(budget.Find("spec", "minAvailable"));
    }

    [ToolFact(Kubectl, NodeTools)]
    public async Task Production_overlay_runs_three_replicas_behind_a_load_balancer_on_a_pinned_image()
    {
        var production = await Manifests.RenderAsync(Manifests.Production);
        var @base = await Manifests.RenderAsync(Manifests.Base);

        Assert.Equal(3, production.Deployment.Number("spec", "replicas"));
        Assert.Equal("LoadBalancer", production.Service.Text("spec", "type"));
        Assert.Equal("Local", production.Service.Text("spec", "externalTrafficPolicy"));
        var image = production.Container.Text("image");
        var tag = image[(image.LastIndexOf('/') + 1)..].Split(':').ElementAtOrDefault(1);
        Assert.False(string.IsNullOrEmpty(tag) || tag == "latest", $"image {image} pins a tag");

        Assert.Equal("ClusterIP", @base.Service.Text("spec", "type"));
        Assert.NotEqual(3, @base.Deployment.Number("spec", "replicas"));
    }

    [ToolTheory(Kubectl, NodeTools)]
    [MemberData(nameof(Kustomizations))]
    public async Task The_http_port_stays_inside_the_cluster(string kustomization)
    {
        var manifests = await Manifests.RenderAsync(kustomization);

        // /metrics, /healthz, /readyz and /connections are for the cluster: a LoadBalancer would publish them.
        Assert.Equal("ClusterIP", manifests.HttpService.Text("spec", "type"));
        Assert.All(
            manifests.Objects.Where(o => o.Text("kind") == "Service" && o.Find("spec", "type")?.ToString() is "LoadBalancer" or "NodePort"),
            service => Assert.DoesNotContain(service.Objects("spec", "ports"), p => p.Text("name") == "http" || p.Number("port") == 8080));
    }
}
