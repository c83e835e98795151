using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>Delivers what other instances NOTIFY into the chat core (<see cref="IChatBackplaneSink"/>), in the order they said it.</summary>
internal sealed class BackplaneDispatcher(string instanceKey, IBackplaneObserver observer)
{
    private IChatBackplaneSink? _sink;

    /// <summary>The chat this backplane serves; null until it attaches.</summary>
    public IChatBackplaneSink? Sink
    {
        get => Volatile.Read(ref _sink);
        set => Volatile.Write(ref _sink, value);
    }

    /// <summary>One NOTIFY: one event, or several packed, delivered in the order they were said.</summary>
    public void OnNotification(object sender, NpgsqlNotificationEventArgs e) => Dispatch(e.Payload);

    public void Dispatch(string notification)
    {
        // Every instance hears its own NOTIFYs too: skipped before unpacking.
        var events = new List<BackplanePayload>();
        if (notification.StartsWith(instanceKey, StringComparison.Ordinal) || !BackplanePayload.TryUnpack(notification, events) || Sink is not { } sink)
        {
            return;
        }

        observer.Received(events.Count);
        foreach (var payload in events)
        {
            switch (payload.Kind)
            {
                case PayloadKind.Private:
                    sink.DeliverPrivate(payload.Target, payload.Line);
                    break;
                default:
                    sink.DeliverToRoom(payload.Target, payload.Line, remember: payload.Kind == PayloadKind.RoomMessage);
                    break;
            }
        }
    }
}
