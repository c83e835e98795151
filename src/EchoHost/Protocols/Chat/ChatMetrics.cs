using EchoHost.Protocols.Chat.Core;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Chat;

/// <summary>The chat's counts as one listener's metrics: the adapter between the chat core and telemetry.</summary>
internal sealed class ChatMetrics : IChatObserver
{
    private readonly ListenerMetrics _metrics;

    public ChatMetrics(ListenerMetrics metrics)
    {
        _metrics = metrics;
        metrics.DeclareChatSeries(Enum.GetValues<ChatLineDropReason>().Select(r => r.TagValue()));
    }

    public void UserJoined() => _metrics.ChatUserJoined();

    public void UserLeft() => _metrics.ChatUserLeft();

    public void RoomOpened() => _metrics.ChatRoomOpened();

    public void RoomClosed() => _metrics.ChatRoomClosed();

    public void Delivered(int recipients) => _metrics.ChatMessagesDelivered(recipients);

    public void LineDropped(ChatLineDropReason reason) => _metrics.ChatLineDropped(reason.TagValue());

    public void SlowReaderDisconnected() => _metrics.ChatSlowReaderDisconnected();
}
