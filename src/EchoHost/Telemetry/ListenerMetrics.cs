using System.Diagnostics;
using EchoHost.Connections;

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
    public const string UdpProtocol = "udp";

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

    public void ConnectionRefused(LimitRefusal refusal) => _metrics.ConnectionsRefused.Add(1, WithReason(refusal switch
    {
        LimitRefusal.PerIp => "per_ip",
        _ => "max_connections",
    }));

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

    public void UdpDatagramDropped(UdpDropReason reason) => _metrics.UdpDatagramsDropped.Add(1, WithReason(reason.TagValue()));

    private TagList WithReason(string reason)
    {
        var tags = _tags;
        tags.Add(ReasonTag, reason);
        return tags;
    }

    /// <summary>Records zero on every series this listener can move, so <c>rate()</c> and alerts work before the first event.</summary>
    public void StartSeriesAtZero()
    {
        switch (Protocol)
        {
            case UdpProtocol:
                _metrics.UdpDatagramsReceived.Add(0, _tags);
                _metrics.UdpDatagramsSent.Add(0, _tags);
                _metrics.UdpBytesReceived.Add(0, _tags);
                _metrics.UdpBytesSent.Add(0, _tags);
                foreach (var reason in Enum.GetValues<UdpDropReason>())
                {
                    _metrics.UdpDatagramsDropped.Add(0, WithReason(reason.TagValue()));
                }

                return;
            case ChatProtocol:
                _metrics.ChatUsers.Add(0, _tags);
                _metrics.ChatRooms.Add(0, _tags);
                _metrics.ChatMessagesDelivered.Add(0, _tags);
                _metrics.ChatSlowReadersDisconnected.Add(0, _tags);
                foreach (var reason in Enum.GetValues<ChatLineDropReason>())
                {
                    _metrics.ChatLinesDropped.Add(0, WithReason(reason.TagValue()));
                }

                break;
        }

        _metrics.ConnectionsActive.Add(0, _tags);
        _metrics.ConnectionsOpened.Add(0, _tags);
        _metrics.BytesReceived.Add(0, _tags);
        _metrics.BytesSent.Add(0, _tags);
        _metrics.IdleTimeouts.Add(0, _tags);
        _metrics.ConnectionsRefused.Add(0, WithReason("max_connections"));
        _metrics.ConnectionsRefused.Add(0, WithReason("per_ip"));
    }
}
