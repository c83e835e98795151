using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// Serves every UDP listener: binds their sockets when the host starts (so a port in use fails start like a TCP
/// listener would), runs the receive loops, logs a drop summary every few seconds, and closes the sockets on stop,
/// which ends the loops at once.
/// </summary>
internal sealed class UdpEchoService(
    ListenerSet listeners,
    IListenerEndpoints endpoints,
    EchoHostMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory)
    : IHostedService, IAsyncDisposable
{
    /// <summary>How often drops are summarised in the log, at most.</summary>
    internal static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = loggerFactory.CreateLogger("EchoHost.UdpEcho");
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _loops = [];
    private readonly List<UdpDropSummary> _summaries = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, UdpListenerStats> _stats = listeners.Of(UdpEchoProtocol.Registration).ToDictionary(
        l => l.Name, l => new UdpListenerStats(metrics.ForListener(l.Name, l.ProtocolName)), StringComparer.OrdinalIgnoreCase);
    private Task _summaryLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var served = new List<(ListenerDefinition Listener, IReadOnlyList<Socket> Sockets)>();
        try
        {
            // Bind everything before serving anything: a listener that cannot bind fails start with nothing running.
            foreach (var listener in listeners.Of(UdpEchoProtocol.Registration))
            {
                var sockets = UdpListenerSockets.Bind(listener, _logger);
                _sockets.AddRange(sockets);
                served.Add((listener, sockets));
            }
        }
        catch
        {
            CloseSockets();
            throw;
        }

        foreach (var (listener, sockets) in served)
        {
            var endPoints = sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();
            var stats = _stats[listener.Name];
            var policy = new DatagramPolicy(listener.Udp, endPoints.Select(e => e.Port), time);
            // One loop per socket. Measured on this two-core machine (loopback, 8 s runs, 2–3 sending threads): a
            // second loop on the same socket gave no gain with 64-byte datagrams (about 112k vs 116k replies/s) and one
            // within the noise with 1472-byte ones (103k vs 115k, ±15 %); and it allocates: a socket caches one receive
            // operation, so a receive issued while the other loop's is pending gets a new one (about 5 bytes a datagram).
            foreach (var socket in sockets)
            {
                var loop = new UdpEchoLoop(listener.Name, new DatagramSocket(socket), policy, stats, endpoints, _logger);
                _loops.Add(loop.RunAsync());
            }

            _summaries.Add(new UdpDropSummary(listener.Name, stats, time, _logger));
            endpoints.MarkBound(listener.Name, endPoints);
        }

        if (_summaries.Count > 0)
        {
            _summaryLoop = SummarizeAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    /// <summary>A UDP listener's datagram, byte and drop counters since start.</summary>
    public UdpListenerStats Stats(string listenerName) =>
        _stats.TryGetValue(listenerName, out var stats) ? stats : throw new KeyNotFoundException($"No UDP listener named '{listenerName}'.");

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        CloseSockets();
        // Closing a socket ends its loop at once, and the summary loop was cancelled: nothing here waits on a client,
        // so this needs no timeout — and must not take the host's, which a slow Kestrel stop may already have used up.
        await Task.WhenAll([.. _loops, _summaryLoop]);

        // What was dropped since the last summary still gets its line.
        _summaries.ForEach(s => s.Report());
    }

    private async Task SummarizeAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(SummaryInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                _summaries.ForEach(s => s.Report());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void CloseSockets()
    {
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
            _sockets.Clear();
        }
    }

    public ValueTask DisposeAsync()
    {
        CloseSockets();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
