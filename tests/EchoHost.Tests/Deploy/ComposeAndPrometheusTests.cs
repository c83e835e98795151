using System.Text.Json.Nodes;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>deploy/compose/docker-compose.yml and the Prometheus scrape config it mounts, checked without a Docker engine.</summary>
public sealed class ComposeAndPrometheusTests
{
    private const string ComposeFile = "deploy/compose/docker-compose.yml";

    private const string PrometheusConfig = "deploy/prometheus/prometheus.yml";

    private static readonly string ComposeFolder = Path.GetDirectoryName(Repository.Path(ComposeFile))!;

    [ToolFact(Promtool)]
    public async Task Promtool_accepts_the_scrape_config()
    {
        var result = await RunAsync(Promtool, ["check", "config", Repository.Path(PrometheusConfig)]);

        result.EnsureSuccess();
    }

    [ToolFact(NodeTools)]
    public async Task EchoHost_publishes_its_six_ports_unchanged()
    {
        var echohost = (await ReadYamlAsync(ComposeFile)).At("services", "echohost");

        var ports = echohost.At("ports").AsArray().Select(p => ParsePort(p!.GetValue<string>())).ToList();

        Assert.All(ports, p => Assert.Equal(p.Published, p.Target));
        Assert.Equal(["65400/udp", "65432/tcp", "65433/tcp", "6667/tcp", "8080/tcp", "8081/tcp"], ports.Select(p => $"{p.Target}/{p.Protocol}").Order());
        // The operations endpoint stays on the host's loopback; the protocols are for the network.
        Assert.All(ports, p => Assert.Equal(p.Target == 8080 ? "127.0.0.1" : null, p.HostIp));
    }

    /// <summary>The short syntax, <c>[IP:]HOST:CONTAINER[/PROTOCOL]</c>, IPv4 only and without ranges.</summary>
    private static (string? HostIp, int Published, int Target, string Protocol) ParsePort(string spec)
    {
        var (ports, protocol) = spec.Split('/') is [var p, var proto] ? (p, proto) : (spec, "tcp");
        var parts = ports.Split(':');
        string? hostIp = null;
        if (parts.Length == 3)
        {
            hostIp = parts[0];
            parts = parts[1..];
        }

        Assert.True(parts.Length == 2, $"port '{spec}' is [IP:]HOST:CONTAINER[/PROTOCOL]");
        return (hostIp, int.Parse(parts[0]), int.Parse(parts[1]), protocol);
    }

    [ToolFact(NodeTools)]
    public async Task EchoHost_is_built_from_the_repository_root_and_given_time_to_drain()
    {
        var echohost = (await ReadYamlAsync(ComposeFile)).At("services", "echohost");

        Assert.Equal(Repository.Root, Path.GetFullPath(Path.Combine(ComposeFolder, echohost.Text("build", "context"))));
        // Docker sends SIGKILL after stop_grace_period (10 s by default): it must outlast the host's own shutdown timeout.
        var shutdownTimeout = TimeSpan.Parse(echohost.Text("environment", "EchoHost__ShutdownTimeout"));
        Assert.True(ParseSeconds(echohost.Text("stop_grace_period")) > shutdownTimeout.TotalSeconds);
    }

    private static int ParseSeconds(string duration)
    {
        Assert.EndsWith("s", duration);
        return int.Parse(duration[..^1]);
    }

    [ToolFact(NodeTools)]
    public async Task Prometheus_mounts_the_scrape_config_read_only()
    {
        var prometheus = (await ReadYamlAsync(ComposeFile)).At("services", "prometheus");

        Assert.StartsWith("prom/prometheus:", prometheus.Text("image"));
        // Prometheus shows every series and its targets: this machine only, like EchoHost's own HTTP port.
        Assert.Contains("127.0.0.1:9090:9090", prometheus.At("ports").AsArray().Select(p => p!.GetValue<string>()));
        var mount = Assert.Single(prometheus.At("volumes").AsArray().Select(v => v!.GetValue<string>()));
        var (source, target, mode) = mount.Split(':') is [var s, var t, var m] ? (s, t, m) : throw new Xunit.Sdk.XunitException($"volume '{mount}' is SOURCE:TARGET:MODE");
        var sourcePath = Path.GetFullPath(Path.Combine(ComposeFolder, source));
        Assert.True(File.Exists(sourcePath), $"{sourcePath} exists");
        Assert.Equal(Repository.Path(PrometheusConfig), sourcePath);
        Assert.Equal("/etc/prometheus/prometheus.yml", target);
        Assert.Equal("ro", mode);
    }

    [Fact]
    public void The_readmes_docker_run_keeps_the_http_port_private_and_waits_for_the_shutdown()
    {
        var run = Assert.Single(File.ReadAllLines(Repository.Path("docs/deploy.md")), l => l.StartsWith("docker run ", StringComparison.Ordinal) && l.EndsWith(" echohost", StringComparison.Ordinal));
        var words = run.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var published = words.Zip(words.Skip(1)).Where(p => p.First == "-p").Select(p => ParsePort(p.Second)).ToList();
        Assert.Equal(["65400/udp", "65432/tcp", "65433/tcp", "6667/tcp", "8080/tcp", "8081/tcp"], published.Select(p => $"{p.Target}/{p.Protocol}").Order());
        Assert.All(published, p => Assert.Equal(p.Target == 8080 ? "127.0.0.1" : null, p.HostIp));
        // docker stop waits 10 s unless told otherwise, then kills: less than the shutdown's own budget.
        var stopTimeout = int.Parse(words[Array.IndexOf(words, "--stop-timeout") + 1]);
        Assert.True(stopTimeout > new EchoHostOptions().ShutdownTimeout.TotalSeconds, run);
    }

    [ToolFact(NodeTools)]
    public async Task Prometheus_scrapes_the_compose_service_on_its_http_port_every_15_seconds()
    {
        var compose = await ReadYamlAsync(ComposeFile);
        var config = await ReadYamlAsync(PrometheusConfig);

        var job = Assert.Single(config.Objects("scrape_configs"), j => j.Text("job_name") == "echohost");
        Assert.Equal("15s", job.Text("scrape_interval"));
        Assert.Equal("/metrics", job.Text("metrics_path"));
        var target = Assert.Single(Assert.Single(job.Objects("static_configs")).At("targets").AsArray())!.GetValue<string>();
        Assert.Equal("echohost:8080", target);
        // On the compose network Prometheus reaches the container's own port, whatever the host publishes.
        Assert.Contains(compose.At("services", "echohost", "ports").AsArray(), p => ParsePort(p!.GetValue<string>()).Target == 8080);
    }
}
