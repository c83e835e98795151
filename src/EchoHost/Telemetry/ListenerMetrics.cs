using System.Diagnostics;
using System.Diagnostics.Metrics;
using EchoHost.Connections;
using EchoHost.Udp;

namespace EchoHost.Telemetry;

/// <summary>
/// The EchoHost instruments as one listener reports them, with its <c>echohost.listener</c> and
/// <c>echohost.protocol</c> tags built once: recording allocates nothing.
/// </summary>
internal sealed class ListenerMetrics
{
    public const string ListenerTag = "echohost.listener";
    public const string ProtocolTag = "echohost.protocol";
    public const string ReasonTag = "reason";
    public const string ChatProtocol = "chat";
    public const string UdpProtocol = "udpecho";

    private readonly EchoHostMetrics _metrics;
    private readonly TagList _tags;

    public ListenerMetrics(EchoHostMetrics metrics, string listener, string protocol)
    {
        _metrics = metrics;
        _tags = new TagList { { ListenerTag, listener }, { ProtocolTag, protocol } };
        Listener = listener;
        Protocol = protocol;
    }

    public string Listener { get; }

    public string Protocol { get; }

    // TCP connections (Connections/ListenerConnectionMiddleware and CountingDuplexPipe).
    public void ConnectionOpened()
    {
        _metrics.ConnectionsOpened.Add(1, _tags);
        _metrics.ConnectionsActive.Add(1, _tags);
    }

    public void ConnectionClosed(TimeSpan duration)
    {
        _metrics.ConnectionsActive.Add(-1, _tags);
        _metrics.ConnectionDuration.Record(duration.TotalSeconds, _tags);
    }

    public void ConnectionRefused(LimitRefusal refusal) => _metrics.ConnectionsRefused.Add(1, WithReason(RefusalReason(refusal)));

    public void IdleTimeout() => _metrics.IdleTimeouts.Add(1, _tags);

    public void BytesReceived(long count) => _metrics.BytesReceived.Add(count, _tags);

    public void BytesSent(long count) => _metrics.BytesSent.Add(count, _tags);

    // Chat (Chat/).
    public void ChatUserJoined() => _metrics.ChatUsers.Add(1, _tags);

    public void ChatUserLeft() => _metrics.ChatUsers.Add(-1, _tags);

    public void ChatRoomOpened() => _metrics.ChatRooms.Add(1, _tags);

    public void ChatRoomClosed() => _metrics.ChatRooms.Add(-1, _tags);

    public void ChatMessagesDelivered(int recipients) => _metrics.ChatMessagesDelivered.Add(recipients, _tags);

    public void ChatLineDropped(ChatLineDropReason reason) => _metrics.ChatLinesDropped.Add(1, WithReason(reason.TagValue()));

    public void ChatSlowReaderDisconnected() => _metrics.ChatSlowReadersDisconnected.Add(1, _tags);

    // UDP (Udp/).
    public void UdpDatagramReceived(int bytes)
    {
        _metrics.UdpDatagramsReceived.Add(1, _tags);
        _metrics.UdpBytesReceived.Add(bytes, _tags);
    }

    public void UdpDatagramSent(int bytes)
    {
        _metrics.UdpDatagramsSent.Add(1, _tags);
        _metrics.UdpBytesSent.Add(bytes, _tags);
    }

    public void UdpDatagramDropped(UdpDropReason reason) => _metrics.UdpDatagramsDropped.Add(1, WithReason(UdpDropReasons.Name(reason)));

    private TagList WithReason(string reason)
    {
        var tags = _tags;
        tags.Add(ReasonTag, reason);
        return tags;
    }

    /// <summary>Records zero on every series this listener can move, so <c>rate()</c> and alerts work before the first event.</summary>
    public void StartSeriesAtZero()
    {
        if (Protocol == UdpProtocol)
        {
            AddZero(_metrics.UdpDatagramsReceived, _metrics.UdpDatagramsSent, _metrics.UdpBytesReceived, _metrics.UdpBytesSent);
            AddZeroPerReason(_metrics.UdpDatagramsDropped, UdpDropReasons.All.Select(UdpDropReasons.Name));
            return;
        }

        if (Protocol == ChatProtocol)
        {
            _metrics.ChatUsers.Add(0, _tags);
            _metrics.ChatRooms.Add(0, _tags);
            AddZero(_metrics.ChatMessagesDelivered, _metrics.ChatSlowReadersDisconnected);
            AddZeroPerReason(_metrics.ChatLinesDropped, Enum.GetValues<ChatLineDropReason>().Select(r => r.TagValue()));
        }

        _metrics.ConnectionsActive.Add(0, _tags);
        AddZero(_metrics.ConnectionsOpened, _metrics.BytesReceived, _metrics.BytesSent, _metrics.IdleTimeouts);
        AddZeroPerReason(_metrics.ConnectionsRefused, [RefusalReason(LimitRefusal.MaxConnections), RefusalReason(LimitRefusal.PerIp)]);
    }

    private static string RefusalReason(LimitRefusal refusal) => refusal == LimitRefusal.PerIp ? "per_ip" : "max_connections";

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
