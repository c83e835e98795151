using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace EchoHost.Telemetry;

/// <summary>
/// EchoHost's own instruments, on the one <c>EchoHost</c> meter: those every listener shares (connections, bytes,
/// refusals, idle timeouts). A protocol's own instruments live in its folder and are created on the same meter
/// through <see cref="Instruments{T}"/>. Tags are low-cardinality only: the listener's name, its protocol and, on
/// drops and refusals, a reason from a fixed set. Never an address or a nick.
/// Feature code reports through <see cref="ForListener"/>, never through the shared instruments.
/// </summary>
internal sealed class EchoHostMetrics
{
    public const string MeterName = "EchoHost";

    /// <summary>
    /// Buckets for Kestrel's <c>kestrel.connection.duration</c>, which measures EchoHost's connections (tagged with
    /// the listener): from 5 ms to 1 h, as echo and chat sessions last far longer than an HTTP connection.
    /// </summary>
    public static readonly double[] ConnectionDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    private readonly ConcurrentDictionary<string, ListenerMetrics> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, object> _instruments = new();
    private readonly Meter _meter;
    private bool _started;

    public EchoHostMetrics(IMeterFactory meterFactory)
    {
        var meter = _meter = meterFactory.Create(MeterName);

        // Connection, byte and datagram counts move on every connection, read, write and datagram: each listener adds
        // them to a field of its own, and the SDK reads the fields when it collects. An Add per event cost a tag lookup
        // each time: several per UDP datagram, three per connection (docs/performance.md, What was tried).
        meter.CreateObservableUpDownCounter("echohost.connections.active", () => Observe(static l => l.ConnectionsActive), "{connection}", "TCP connections open now.");
        meter.CreateObservableCounter("echohost.connections.opened", () => Observe(static l => l.ConnectionsOpened), "{connection}", "TCP connections accepted (after the connection limits).");
        meter.CreateObservableCounter("echohost.io.received", () => Observe(static l => l.TcpBytesReceived), "By", "Bytes received from TCP clients.");
        meter.CreateObservableCounter("echohost.io.sent", () => Observe(static l => l.TcpBytesSent), "By", "Bytes sent to TCP clients.");
        ConnectionsRefused = meter.CreateCounter<long>("echohost.connections.refused", "{connection}", "TCP connections closed at once because a connection limit was reached.");
        IdleTimeouts = meter.CreateCounter<long>("echohost.connections.idle_timeouts", "{connection}", "TCP connections closed because they moved no byte for the idle timeout.");
    }

    internal Counter<long> ConnectionsRefused { get; }
    internal Counter<long> IdleTimeouts { get; }

    /// <summary>
    /// A feature's own instruments on the same meter, created once per host by <paramref name="create"/>: a protocol
    /// keeps its instruments in its own folder (Protocols/…) and Telemetry never learns their names.
    /// </summary>
    public T Instruments<T>(Func<Meter, T> create)
        where T : class =>
        (T)_instruments.GetOrAdd(typeof(T), static (_, state) => state.Create(state.Meter), (Create: create, Meter: _meter));

    /// <summary>One measurement per listener that declared the series (null: not one of its series).</summary>
    private IEnumerable<Measurement<long>> Observe(Func<ListenerMetrics, long?> read)
    {
        foreach (var listener in _listeners.Values)
        {
            if (read(listener) is { } value)
            {
                yield return listener.Measure(value);
            }
        }
    }

    /// <summary>One listener's instruments with its tags cached: fetch it once per listener, call it per event.</summary>
    public ListenerMetrics ForListener(string listener, string protocol) =>
        _listeners.GetOrAdd(listener, static (name, state) => state.Metrics.Create(name, state.Protocol), (Metrics: this, Protocol: protocol));

    private ListenerMetrics Create(string listener, string protocol)
    {
        var metrics = new ListenerMetrics(this, listener, protocol);
        if (Volatile.Read(ref _started))
        {
            metrics.StartSeriesAtZero();
        }

        return metrics;
    }

    /// <summary>Records zero on every series the listeners declared: called once the SDK listens.</summary>
    internal void StartSeriesAtZero()
    {
        Volatile.Write(ref _started, true);
        foreach (var listener in _listeners.Values)
        {
            listener.StartSeriesAtZero();
        }
    }
}
