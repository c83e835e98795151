namespace EchoHost.Protocols.Chat.Core;

/// <summary>What other instances did, pulled from the bus and delivered through the same fan-out as local events.</summary>
internal sealed partial class ChatServer
{
    /// <summary>Delivers what the bus brings until it completes or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunDeliveriesAsync(CancellationToken cancellationToken)
    {
        var deliveries = _bus.Deliveries;
        while (await deliveries.WaitToReadAsync(cancellationToken))
        {
            while (deliveries.TryRead(out var delivery))
            {
                Deliver(delivery);
            }
        }
    }

    /// <summary>One delivery from another instance (or a decision of the shared store).</summary>
    public void Deliver(ChatDelivery delivery)
    {
        switch (delivery)
        {
            case ChatDelivery.ToRoom toRoom:
                DeliverToRoom(toRoom.Room, toRoom.Event, toRoom.Remember);
                break;
            case ChatDelivery.ToUser toUser:
                DeliverPrivate(toUser.Nick, toUser.Event);
                break;
            case ChatDelivery.NickLost lost:
                ApplyNickLost(lost.Nick, lost.NewNick, lost.Room);
                break;
        }
    }

    private void DeliverToRoom(string roomName, ChatEvent chatEvent, bool remember)
    {
        lock (_lock)
        {
            if (_rooms.TryGetValue(roomName, out var room))
            {
                if (remember)
                {
                    room.Remember(_time.GetUtcNow(), chatEvent);
                }

                if (chatEvent.Kind == ChatEventKind.TopicChanged)
                {
                    room.Topic = chatEvent.Text.Length == 0 ? null : new ChatTopic(chatEvent.Text, chatEvent.Nick, _time.GetUtcNow());
                }

                _roomCounts.Delivered(room.Name, room.Broadcast(chatEvent, except: null));
            }
        }
    }

    private void DeliverPrivate(string nick, ChatEvent message)
    {
        ChatUser? target;
        var refusing = false;
        lock (_lock)
        {
            // A sender on another instance is not told (the store carries no answer back); the recipient stays all the same.
            if (_users.TryGetValue(nick, out target) && DeliverPrivate(target, message, ref refusing))
            {
                target.Observer.Delivered(1);
            }
        }

        if (refusing)
        {
            target!.Log.PrivatesRefused(target.Nick, _options.PrivateQueueLimit);
        }
    }

    /// <summary>
    /// The store decided after an outage that <paramref name="nick"/> belongs to someone on another instance: the user
    /// here becomes <paramref name="newNick"/> and is told why (the bus told the other instances). When that user is
    /// gone (or the new nick is in use here), the store's claim on <paramref name="newNick"/> is given back.
    /// </summary>
    private void ApplyNickLost(string nick, string newNick, string room)
    {
        lock (_lock)
        {
            if (!_users.TryGetValue(nick, out var user) || IsInUse(newNick))
            {
                _bus.Left(newNick, room, notice: null);
                return;
            }

            nick = user.Nick;
            Rename(user, newNick);
            user.Send(ChatEvent.NickLost(nick, newNick));
        }

        LogNickLost(nick, newNick);
    }
}
