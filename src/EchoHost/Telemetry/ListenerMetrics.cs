using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EchoHost.Telemetry;

/// <summary>
/// The EchoHost instruments as one listener reports them, with its <c>echohost.listener</c> and
/// <c>echohost.protocol</c> tags built once: recording allocates nothing. Reasons are tag values the caller owns
/// (Telemetry imports no feature type); each feature declares the series it can move, with its reasons, so they
/// start at zero. A protocol's own instruments (Protocols/…) use <see cref="Tags"/> and <see cref="Declare"/>.
/// </summary>
internal sealed class ListenerMetrics
{
    public const string ListenerTag = "echohost.listener";
    public const string ProtocolTag = "echohost.protocol";
    public const string ReasonTag = "reason";

    private readonly EchoHostMetrics _metrics;
    private readonly TagList _tags;
    private readonly List<Action> _zeroSeries = [];
    private bool _started;
    private bool _tcp;
    private long _connectionsOpened;
    private long _connectionsActive;
    private long _tcpBytesReceived;
    private long _tcpBytesSent;

    public ListenerMetrics(EchoHostMetrics metrics, string listener, string protocol)
    {
        _metrics = metrics;
        _tags = new TagList { { ListenerTag, listener }, { ProtocolTag, protocol } };
    }

    // TCP connections.
    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsOpened);
        Interlocked.Increment(ref _connectionsActive);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connectionsActive);

    /// <summary>
    /// Adds the listener's tags to a connection's metric tags as Kestrel collects them (its
    /// <c>IConnectionMetricsTagsFeature</c>), so Kestrel's <c>kestrel.connection.duration</c> is per listener.
    /// </summary>
    public void TagConnection(ICollection<KeyValuePair<string, object?>> connectionTags)
    {
        foreach (var tag in _tags)
        {
            connectionTags.Add(tag);
        }
    }

    public void ConnectionRefused(string reason) => _metrics.ConnectionsRefused.Add(1, WithReason(reason));

    public void IdleTimeout() => _metrics.IdleTimeouts.Add(1, _tags);

    public void BytesReceived(long count) => Interlocked.Add(ref _tcpBytesReceived, count);

    public void BytesSent(long count) => Interlocked.Add(ref _tcpBytesSent, count);

    /// <summary>The listener's <c>echohost.listener</c> and <c>echohost.protocol</c> tags, for a feature's own instruments.</summary>
    public TagList Tags => _tags;

    /// <summary>A feature's own instruments on the EchoHost meter, one set per host (see <see cref="EchoHostMetrics.Instruments{T}"/>).</summary>
    public T Instruments<T>(Func<Meter, T> create)
        where T : class => _metrics.Instruments(create);

    // What the observable counters read when the SDK collects; null when the listener does not have the series.
    internal long? ConnectionsOpened => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _connectionsOpened) : null;

    internal long? ConnectionsActive => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _connectionsActive) : null;

    internal long? TcpBytesReceived => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _tcpBytesReceived) : null;

    internal long? TcpBytesSent => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _tcpBytesSent) : null;

    internal Measurement<long> Measure(long value) => new(value, _tags);

    /// <summary>The series a TCP listener moves, refusals by each of <paramref name="refusalReasons"/>.</summary>
    public void DeclareConnectionSeries(IEnumerable<string> refusalReasons)
    {
        Volatile.Write(ref _tcp, true);
        Declare(() =>
        {
            AddZero(_metrics.IdleTimeouts);
            AddZeroPerReason(_metrics.ConnectionsRefused, refusalReasons);
        });
    }

    /// <summary>
    /// Refusals only, by each of <paramref name="refusalReasons"/>: for an endpoint whose connections are counted
    /// elsewhere (the HTTP endpoint, which Kestrel's own metrics cover).
    /// </summary>
    public void DeclareRefusalSeries(IEnumerable<string> refusalReasons) =>
        Declare(() => AddZeroPerReason(_metrics.ConnectionsRefused, refusalReasons));

    /// <summary>
    /// Records zero on every declared series, so <c>rate()</c> and alerts work before the first event. Called once
    /// the SDK listens (a measurement before that is lost); a series declared later starts at zero at once.
    /// </summary>
    internal void StartSeriesAtZero()
    {
        List<Action> declared;
        lock (_zeroSeries)
        {
            _started = true;
            declared = [.. _zeroSeries];
        }

        declared.ForEach(start => start());
    }

    /// <summary>
    /// Series of a feature's own instruments that <paramref name="startAtZero"/> records zero on: now if the SDK
    /// already listens, else once it does.
    /// </summary>
    public void Declare(Action startAtZero)
    {
        lock (_zeroSeries)
        {
            _zeroSeries.Add(startAtZero);
            if (!_started)
            {
                return;
            }
        }

        startAtZero();
    }

    /// <summary>The listener's tags and a <c>reason</c>.</summary>
    public TagList WithReason(string reason)
    {
        var tags = _tags;
        tags.Add(ReasonTag, reason);
        return tags;
    }

    private void AddZero(params Counter<long>[] counters)
    {
        foreach (var counter in counters)
        {
            counter.Add(0, _tags);
        }
    }

    private void AddZeroPerReason(Counter<long> counter, IEnumerable<string> reasons)
    {
        foreach (var reason in reasons)
        {
            counter.Add(0, WithReason(reason));
        }
    }
}
