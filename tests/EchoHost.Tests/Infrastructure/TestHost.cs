using System.Net;
using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// The real EchoHost, in-process, on 127.0.0.1 with port 0 everywhere. Configuration comes only from what the test
/// passes (the content root is an empty folder), so the shipped appsettings.json never leaks into a test.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _contentRoot;

    private TestHost(WebApplication app, LogCapture logs, string contentRoot)
    {
        _app = app;
        Logs = logs;
        _contentRoot = contentRoot;
    }

    public LogCapture Logs { get; }

    public IServiceProvider Services => _app.Services;

    public ListenerSet Listeners => _app.Services.GetRequiredService<ListenerSet>();

    public ListenerEndpoints Endpoints => _app.Services.GetRequiredService<ListenerEndpoints>();

    /// <summary>A UDP listener's datagram, byte and drop counters.</summary>
    public UdpListenerStats UdpStats(string listener) => _app.Services.GetRequiredService<UdpEchoService>().Stats(listener);

    /// <summary>Config for one echo listener named Echo plus the HTTP endpoint, all on free loopback ports.</summary>
    public static Dictionary<string, string?> BaseConfig() => new()
    {
        ["EchoHost:Address"] = "127.0.0.1",
        ["EchoHost:Http:Port"] = "0",
        ["EchoHost:Listeners:Echo:Protocol"] = "Echo",
        ["EchoHost:Listeners:Echo:Port"] = "0",
        // Keep test output quiet; LogCapture still sees everything.
        ["Serilog:MinimumLevel:Default"] = "Fatal",
    };

    public static async Task<TestHost> StartAsync(IDictionary<string, string?>? overrides = null, Action<WebApplicationBuilder>? customize = null)
    {
        var host = Create(overrides, customize);
        await host.StartAppAsync();
        return host;
    }

    /// <summary>The host built but not started: nothing is bound yet.</summary>
    public static TestHost Create(IDictionary<string, string?>? overrides = null, Action<WebApplicationBuilder>? customize = null)
    {
        var config = BaseConfig();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var contentRoot = Directory.CreateTempSubdirectory("echohost-test-").FullName;
        var logs = new LogCapture();
        var app = Program.BuildApp([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.AddProvider(logs);
            customize?.Invoke(builder);
        }, contentRoot);
        return new TestHost(app, logs, contentRoot);
    }

    public Task StartAppAsync() => _app.StartAsync(TestTimeouts.Token());

    public IPEndPoint EndPoint(string listener = "Echo") => Endpoints.EndPoint(listener);

    public IPEndPoint UdpEndPoint(string listener = "UdpEcho") => Endpoints.EndPoint(listener);

    public Uri HttpBase => new($"http://{Endpoints.HttpEndPoint}/");

    public HttpClient CreateHttpClient() => new() { BaseAddress = HttpBase, Timeout = TestTimeouts.Default };

    /// <summary>GET /metrics, parsed.</summary>
    public async Task<PrometheusSamples> ScrapeAsync()
    {
        using var http = CreateHttpClient();
        return PrometheusSamples.Parse(await http.GetStringAsync("metrics"));
    }

    public Task StopAsync() => _app.StopAsync(TestTimeouts.Token(TestTimeouts.Long));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_contentRoot, recursive: true);
    }
}
