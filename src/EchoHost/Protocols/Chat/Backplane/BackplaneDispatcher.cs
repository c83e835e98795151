using System.Threading.Channels;
using EchoHost.Protocols.Chat.Core;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// Turns what other instances NOTIFY into deliveries for the chat core (<see cref="IChatBus.Deliveries"/>), in the
/// order they said it: the core pulls them; nothing here calls into it.
/// </summary>
internal sealed class BackplaneDispatcher(string instanceKey, IBackplaneObserver observer, ChannelWriter<ChatDelivery> deliveries)
{
    /// <summary>One NOTIFY: one event, or several packed, delivered in the order they were said.</summary>
    public void OnNotification(object sender, NpgsqlNotificationEventArgs e) => Dispatch(e.Payload);

    public void Dispatch(string notification)
    {
        // Every instance hears its own NOTIFYs too: skipped before unpacking.
        var events = new List<BackplanePayload>();
        if (notification.StartsWith(instanceKey, StringComparison.Ordinal) || !BackplanePayload.TryUnpack(notification, events))
        {
            return;
        }

        observer.Received(events.Count);
        foreach (var payload in events)
        {
            switch (payload.Kind)
            {
                case PayloadKind.Private:
                    deliveries.TryWrite(new ChatDelivery.ToUser(payload.Target, ChatEventCodec.Decode(payload.Line)));
                    break;
                default:
                    deliveries.TryWrite(new ChatDelivery.ToRoom(payload.Target, ChatEventCodec.Decode(payload.Line), Remember: payload.Kind == PayloadKind.RoomMessage));
                    break;
            }
        }
    }
}
