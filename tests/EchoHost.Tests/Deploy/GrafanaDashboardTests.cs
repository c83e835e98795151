using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>
/// deploy/grafana: the dashboard's structure, its provisioning in the compose file, and every panel's PromQL run
/// against a real Prometheus that scraped a running EchoHost under a little echo, chat and UDP traffic.
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private const string DashboardFile = "deploy/grafana/dashboards/echohost.json";

    private const string ComposeFile = "deploy/compose/docker-compose.yml";

    /// <summary>What Grafana defines itself; every other <c>$name</c> must be a template variable.</summary>
    private static readonly string[] BuiltInVariables = ["__rate_interval", "__interval", "__range"];

    private static JsonNode Dashboard => JsonNode.Parse(File.ReadAllText(Repository.Path(DashboardFile)))!;

    private static IEnumerable<JsonObject> Panels => Dashboard.Objects("panels").Where(p => p.Text("type") != "row");

    [Fact]
    public void Dashboard_has_a_uid_a_title_a_schema_version_and_unique_panel_ids()
    {
        var dashboard = Dashboard;

        Assert.Equal("echohost", dashboard.Text("uid"));
        Assert.Equal("EchoHost", dashboard.Text("title"));
        Assert.InRange(dashboard.Number("schemaVersion"), 36, 100);
        var all = dashboard.Objects("panels").ToList();
        Assert.Equal(all.Count, all.Select(p => p.Number("id")).Distinct().Count());
        Assert.Equal(all.Count, all.Select(p => p.Text("title")).Distinct().Count());
        Assert.All(all, p =>
        {
            var (x, w) = (p.Number("gridPos", "x"), p.Number("gridPos", "w"));
            Assert.True(x >= 0 && w > 0 && x + w <= 24, $"panel '{p.Text("title")}' fits the 24-column grid");
            Assert.True(p.Number("gridPos", "h") > 0);
        });
    }

    [Fact]
    public void Every_panel_queries_the_chosen_prometheus_with_expressions_using_only_defined_variables()
    {
        var variables = Dashboard.Objects("templating", "list").ToDictionary(v => v.Text("name"));
        Assert.Equal("datasource", variables["datasource"].Text("type"));
        Assert.Equal("prometheus", variables["datasource"].Text("query"));
        foreach (var variable in variables.Values.Where(v => v.Text("type") == "query"))
        {
            Assert.Equal("${datasource}", variable.Text("datasource", "uid"));
            Assert.Equal(variable.Text("definition"), variable.Text("query", "query"));
            Assert.StartsWith("label_values(", variable.Text("definition"));
        }

        Assert.NotEmpty(Panels);
        foreach (var panel in Panels)
        {
            var title = panel.Text("title");
            Assert.True(panel.Text("datasource", "type") == "prometheus" && panel.Text("datasource", "uid") == "${datasource}", $"panel '{title}' uses ${{datasource}}");
            var targets = panel.Objects("targets").ToList();
            Assert.True(targets.Count > 0, $"panel '{title}' has targets");
            Assert.Equal(targets.Count, targets.Select(t => t.Text("refId")).Distinct().Count());
            foreach (var target in targets)
            {
                var expr = target.Text("expr");
                Assert.False(string.IsNullOrWhiteSpace(expr), $"panel '{title}' target {target.Text("refId")} has an expr");
                foreach (Match used in VariableUse().Matches(expr))
                {
                    var name = used.Groups["name"].Value;
                    Assert.True(BuiltInVariables.Contains(name) || variables.ContainsKey(name), $"panel '{title}': ${name} is not defined");
                }
            }
        }
    }

    [ToolFact(NodeTools)]
    public async Task Compose_provisions_grafana_with_the_prometheus_service_and_the_dashboards_folder()
    {
        var compose = await ReadYamlAsync(ComposeFile);
        var grafana = compose.At("services", "grafana");
        var composeFolder = Path.GetDirectoryName(Repository.Path(ComposeFile))!;
        var mounts = grafana.At("volumes").AsArray().Select(v => v!.GetValue<string>().Split(':'))
            .ToDictionary(m => m[1], m => (Source: Path.GetFullPath(Path.Combine(composeFolder, m[0])), Mode: m[2]));

        Assert.StartsWith("grafana/grafana:", grafana.Text("image"));
        Assert.Contains("127.0.0.1:3000:3000", grafana.At("ports").AsArray().Select(p => p!.GetValue<string>()));
        Assert.All(mounts.Values, m => Assert.Equal("ro", m.Mode));
        Assert.Equal(Repository.Path("deploy/grafana/provisioning/datasources"), mounts["/etc/grafana/provisioning/datasources"].Source);
        Assert.Equal(Repository.Path("deploy/grafana/provisioning/dashboards"), mounts["/etc/grafana/provisioning/dashboards"].Source);

        // The provider reads the folder the dashboards are mounted at, and the dashboard is in it.
        var provider = Assert.Single((await ReadYamlAsync("deploy/grafana/provisioning/dashboards/echohost.yml")).Objects("providers"));
        var dashboards = mounts[provider.Text("options", "path")].Source;
        Assert.True(File.Exists(Path.Combine(dashboards, Path.GetFileName(DashboardFile))), $"{DashboardFile} is in the provider's folder");
        Assert.Equal(grafana.Text("environment", "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"), $"{provider.Text("options", "path")}/{Path.GetFileName(DashboardFile)}");

        // The data source is the compose service Prometheus, on its own port.
        var datasource = Assert.Single((await ReadYamlAsync("deploy/grafana/provisioning/datasources/prometheus.yml")).Objects("datasources"));
        Assert.Equal("prometheus", datasource.Text("type"));
        Assert.Equal("http://prometheus:9090", datasource.Text("url"));
        // Grafana reaches Prometheus on the compose network: its port 9090, wherever (and on whichever host address) it is published.
        Assert.Contains(compose.At("services", "prometheus", "ports").AsArray().Select(p => p!.GetValue<string>()), p => p.EndsWith(":9090", StringComparison.Ordinal));
    }

    [ToolFact(ExternalTools.PrometheusServer)]
    public async Task Every_panel_query_returns_data_from_a_prometheus_scraping_echohost_under_load()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Lobby:Protocol"] = "Chat",
            ["EchoHost:Listeners:Lobby:Port"] = "0",
            ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
            ["EchoHost:Listeners:Udp:Port"] = "0",
        });
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(EchoLoadAsync(host, stop.Token), ChatLoadAsync(host, stop.Token), UdpLoadAsync(host, stop.Token));
        await using var prometheus = await Infrastructure.PrometheusServer.StartAsync(host.Endpoints.HttpEndPoint!.ToString());
        try
        {
            // The template variables, as Grafana would resolve them; All selected.
            var jobs = await LabelValuesAsync(prometheus, "job", VariableQuery("job"), ["echohost"]);
            var listeners = await LabelValuesAsync(prometheus, "echohost_listener", VariableQuery("listener").Replace("$job", $"({string.Join('|', jobs)})", StringComparison.Ordinal), ["Echo", "Lobby", "Udp"]);
            var queries = Panels.SelectMany(p => p.Objects("targets").Select(t => (Panel: p.Text("title"), Expr: t.Text("expr")))).ToList();

            var missing = queries.ToList();
            var deadline = DateTime.UtcNow + TestTimeouts.Process;
            while (missing.Count > 0 && DateTime.UtcNow < deadline)
            {
                var stillMissing = new List<(string Panel, string Expr)>();
                foreach (var query in missing)
                {
                    var promql = query.Expr
                        .Replace("$__rate_interval", "10s", StringComparison.Ordinal)
                        .Replace("$job", $"({string.Join('|', jobs)})", StringComparison.Ordinal)
                        .Replace("$listener", $"({string.Join('|', listeners)})", StringComparison.Ordinal);
                    if (!HasData(await prometheus.QueryAsync(promql)))
                    {
                        stillMissing.Add(query);
                    }
                }

                missing = stillMissing;
                if (missing.Count > 0)
                {
                    await Task.Delay(1000);
                }
            }

            Assert.True(missing.Count == 0, "panels without data:\n" + string.Join('\n', missing.Select(m => $"{m.Panel}: {m.Expr}")));
        }
        finally
        {
            await stop.CancelAsync();
            await load;
        }
    }

    /// <summary>At least one series with a number (a quantile of nothing is NaN: no data to show).</summary>
    private static bool HasData(JsonElement[] result) =>
        result.Any(series => series.GetProperty("value")[1].GetString() is { } value && value != "NaN");

    private static string VariableQuery(string name)
    {
        var definition = Dashboard.Objects("templating", "list").Single(v => v.Text("name") == name).Text("definition");
        return LabelValuesQuery().Match(definition).Groups["selector"].Value;
    }

    /// <summary>Grafana's label_values(selector, label), by Prometheus' series API; polls until the expected values appear.</summary>
    private static async Task<List<string>> LabelValuesAsync(Infrastructure.PrometheusServer prometheus, string label, string selector, string[] expected)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        List<string> values = [];
        while (DateTime.UtcNow < deadline)
        {
            values = (await prometheus.QueryAsync($"count by ({label}) ({selector})"))
                .Select(s => s.GetProperty("metric").TryGetProperty(label, out var v) ? v.GetString()! : "")
                .Where(v => v.Length > 0).Order().ToList();
            if (expected.All(values.Contains))
            {
                return values;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"label_values({selector}, {label}) gave [{string.Join(", ", values)}], not all of [{string.Join(", ", expected)}]");
        return values;
    }

    /// <summary>Echo connections opened, used and closed, over and over.</summary>
    private static async Task EchoLoadAsync(TestHost host, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
            {
                await socket.AssertEchoesAsync("dashboard\n");
            }

            await Task.Delay(200, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Two chat users in the lobby, one talking to the other.</summary>
    private static async Task ChatLoadAsync(TestHost host, CancellationToken stop)
    {
        using var speaker = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        using var listener = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            var line = $"message {i++}";
            await speaker.SendAsync(line);
            await listener.ReadUntilAsync(l => l.EndsWith(line, StringComparison.Ordinal));
            await Task.Delay(200, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>UDP datagrams echoed.</summary>
    private static async Task UdpLoadAsync(TestHost host, CancellationToken stop)
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        while (!stop.IsCancellationRequested)
        {
            await udp.SendAsync("dashboard"u8.ToArray(), host.UdpEndPoint("Udp"), TestTimeouts.Token());
            await udp.ReceiveAsync(TestTimeouts.Token());
            await Task.Delay(200, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [GeneratedRegex(@"\$\{?(?<name>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariableUse();

    [GeneratedRegex(@"^label_values\((?<selector>.*), *[a-z_]+\)$")]
    private static partial Regex LabelValuesQuery();
}
