using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EchoHost.Telemetry;

/// <summary>
/// The EchoHost instruments as one listener reports them, with its <c>echohost.listener</c> and
/// <c>echohost.protocol</c> tags built once: recording allocates nothing. Reasons are tag values the caller owns
/// (Telemetry imports no feature type); each feature declares the series it can move, with its reasons, so they
/// start at zero.
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
    private bool _udp;
    private long _connectionsOpened;
    private long _connectionsActive;
    private long _tcpBytesReceived;
    private long _tcpBytesSent;
    private long _udpDatagramsReceived;
    private long _udpDatagramsSent;
    private long _udpBytesReceived;
    private long _udpBytesSent;

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

    // Chat.
    public void ChatUserJoined() => _metrics.ChatUsers.Add(1, _tags);

    public void ChatUserLeft() => _metrics.ChatUsers.Add(-1, _tags);

    public void ChatRoomOpened() => _metrics.ChatRooms.Add(1, _tags);

    public void ChatRoomClosed() => _metrics.ChatRooms.Add(-1, _tags);

    public void ChatMessagesDelivered(int recipients) => _metrics.ChatMessagesDelivered.Add(recipients, _tags);

    public void ChatLineDropped(string reason) => _metrics.ChatLinesDropped.Add(1, WithReason(reason));

    public void ChatSlowReaderDisconnected() => _metrics.ChatSlowReadersDisconnected.Add(1, _tags);

    // UDP.
    public void UdpDatagramReceived(int bytes)
    {
        Interlocked.Increment(ref _udpDatagramsReceived);
        Interlocked.Add(ref _udpBytesReceived, bytes);
    }

    public void UdpDatagramSent(int bytes)
    {
        Interlocked.Increment(ref _udpDatagramsSent);
        Interlocked.Add(ref _udpBytesSent, bytes);
    }

    // What the observable counters read when the SDK collects; null when the listener does not have the series.
    internal long? ConnectionsOpened => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _connectionsOpened) : null;

    internal long? ConnectionsActive => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _connectionsActive) : null;

    internal long? TcpBytesReceived => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _tcpBytesReceived) : null;

    internal long? TcpBytesSent => Volatile.Read(ref _tcp) ? Interlocked.Read(ref _tcpBytesSent) : null;

    internal long? UdpDatagramsReceived => Volatile.Read(ref _udp) ? Interlocked.Read(ref _udpDatagramsReceived) : null;

    internal long? UdpDatagramsSent => Volatile.Read(ref _udp) ? Interlocked.Read(ref _udpDatagramsSent) : null;

    internal long? UdpBytesReceived => Volatile.Read(ref _udp) ? Interlocked.Read(ref _udpBytesReceived) : null;

    internal long? UdpBytesSent => Volatile.Read(ref _udp) ? Interlocked.Read(ref _udpBytesSent) : null;

    internal Measurement<long> Measure(long value) => new(value, _tags);

    public void UdpDatagramDropped(string reason) => _metrics.UdpDatagramsDropped.Add(1, WithReason(reason));

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

    /// <summary>The series a chat listener moves, dropped lines by each of <paramref name="dropReasons"/>.</summary>
    public void DeclareChatSeries(IEnumerable<string> dropReasons) => Declare(() =>
    {
        _metrics.ChatUsers.Add(0, _tags);
        _metrics.ChatRooms.Add(0, _tags);
        AddZero(_metrics.ChatMessagesDelivered, _metrics.ChatSlowReadersDisconnected);
        AddZeroPerReason(_metrics.ChatLinesDropped, dropReasons);
    });

    /// <summary>The series a UDP listener moves, drops by each of <paramref name="dropReasons"/>.</summary>
    public void DeclareUdpSeries(IEnumerable<string> dropReasons)
    {
        Volatile.Write(ref _udp, true);
        Declare(() => AddZeroPerReason(_metrics.UdpDatagramsDropped, dropReasons));
    }

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

    private void Declare(Action startAtZero)
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

    private TagList WithReason(string reason)
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
