using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// The built binary with the shipped configuration — limits, logging, metrics — on free loopback ports, for campaign
/// tests that measure the server process itself.
/// </summary>
internal sealed class CampaignServer : IAsyncDisposable
{
    private static readonly (string, string)[] EchoListener = [("echohost_listener", "Echo"), ("echohost_protocol", "echo")];
    private readonly HttpClient _http;

    private CampaignServer(HostProcess process, IPEndPoint echo, IPEndPoint chat, int httpPort)
    {
        Process = process;
        Echo = echo;
        Chat = chat;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TestTimeouts.Default };
    }

    public HostProcess Process { get; }

    public IPEndPoint Echo { get; }

    public IPEndPoint Chat { get; }

    /// <param name="launcher">What starts dotnet, if not itself (see <see cref="HostProcess.Start"/>).</param>
    public static async Task<CampaignServer> StartAsync(IDictionary<string, string>? settings = null, IReadOnlyList<string>? launcher = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["EchoHost__Address"] = "127.0.0.1",
            ["EchoHost__Listeners__Echo__Port"] = "0",
            ["EchoHost__Listeners__Chat__Port"] = "0",
            ["EchoHost__Listeners__Irc__Port"] = "0",
            ["EchoHost__Listeners__Web__Port"] = "0",
            ["EchoHost__Listeners__UdpEcho__Port"] = "0",
            ["EchoHost__Http__Port"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = HostProcess.Start([], environment, launcher);
        var echo = await process.ListenerPortAsync("Echo");
        var chat = await process.ListenerPortAsync("Chat");
        var httpPort = await process.HttpPortAsync();
        return new CampaignServer(process, new IPEndPoint(IPAddress.Loopback, echo), new IPEndPoint(IPAddress.Loopback, chat), httpPort);
    }

    /// <summary>Serves a few connections so the runtime is past its first-use costs, then returns the idle figures.</summary>
    public async Task<ProcessStats> WarmUpAsync()
    {
        for (var i = 0; i < 50; i++)
        {
            using var socket = await SocketExtensions.ConnectAsync(Echo);
            await socket.AssertEchoesAsync();
        }

        await WaitUntilNoConnectionsAsync();
        return ProcessStats.Of(Process.Id);
    }

    public Task<string> MetricsTextAsync() => _http.GetStringAsync("metrics");

    public Uri HttpBase => _http.BaseAddress!;

    public async Task<double> ActiveConnectionsAsync() =>
        PrometheusSamples.Parse(await _http.GetStringAsync("metrics")).Value("echohost_connections_active", EchoListener);

    /// <summary>Bounded polling until the server counts no open echo connection.</summary>
    public async Task WaitUntilNoConnectionsAsync()
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (await ActiveConnectionsAsync() > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "echo connections stayed open");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The process's figures once its open files are back to at most <paramref name="maxOpenFiles"/>, or the last
    /// ones seen when that never happens within the hang guard: Kestrel closes a socket a moment after the connection
    /// is no longer counted.
    /// </summary>
    public async Task<ProcessStats> SettledAsync(int maxOpenFiles)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        var stats = ProcessStats.Of(Process.Id);
        while (stats.OpenFiles > maxOpenFiles && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            stats = ProcessStats.Of(Process.Id);
        }

        return stats;
    }

    /// <summary>Asks /readyz about five times a second until stopped; returns how many probes there were and how many failed.</summary>
    public async Task<(int Probes, int Failures)> ProbeReadinessAsync(CancellationToken stop)
    {
        var (probes, failures) = (0, 0);
        while (!stop.IsCancellationRequested)
        {
            probes++;
            try
            {
                using var response = await _http.GetAsync("readyz", CancellationToken.None);
                failures += response.StatusCode == HttpStatusCode.OK ? 0 : 1;
            }
            catch (HttpRequestException)
            {
                failures++;
            }

            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return (probes, failures);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Process.DisposeAsync();
    }
}
