namespace EchoHost.Protocols.Chat.Core;

/// <summary>Rooms: saying and acting in one, moving between them, entering and leaving, <c>MaxRooms</c>.</summary>
internal sealed partial class ChatServer
{
    public void Say(ChatUser user, string text)
    {
        Broadcast(user, ChatEventKind.Message, text);
        user.Log.Message(user.Nick, user.Room?.Name ?? Lobby, text);
    }

    public void Act(ChatUser user, string action)
    {
        Broadcast(user, ChatEventKind.Action, action);
        user.Log.Message(user.Nick, user.Room?.Name ?? Lobby, action);
    }

    public async ValueTask JoinAsync(ChatUser user, string roomName)
    {
        lock (_lock)
        {
            if (JoinProblem(user, roomName))
            {
                return;
            }
        }

        var shared = await _bus.RoomAsync(roomName, _options.HistorySize);

        string from;
        lock (_lock)
        {
            if (JoinProblem(user, roomName))
            {
                return;
            }

            // A room new here takes the name its members elsewhere know it by.
            if (GetOrCreateRoom(shared.Value?.Name ?? roomName, user) is not { } room)
            {
                user.Send(ChatEvent.RoomRefused(roomName, $"there are already {_options.MaxRooms} rooms (MaxRooms)"));
                user.Log.TooManyRooms(user.Nick, roomName, _options.MaxRooms);
                return;
            }

            from = user.Room!.Name;
            var left = LeaveRoom(user, $"joined {room.Name}", release: false);
            EnterRoom(user, room, shared, left is null ? null : (from, left));
            roomName = room.Name;
        }

        user.Log.Moved(user.Nick, from, roomName);
    }

    private void Broadcast(ChatUser sender, ChatEventKind kind, string text)
    {
        lock (_lock)
        {
            var at = _time.GetUtcNow();
            var room = sender.Room!;
            var said = new ChatEvent(kind, room.Name, sender.Nick, text);
            room.Remember(at, said);
            sender.Observer.Delivered(room.Broadcast(said, except: sender));
            // Under the lock, so other instances see this instance's messages in the order its users saw them.
            if (_bus.Said(room.Name, said, at, sender.Nick) == LineRelay.Refused)
            {
                sender.Send(ChatEvent.NotShared);
            }
        }
    }

    /// <summary>Tells the user the topic of its room.</summary>
    public void ShowTopic(ChatUser user)
    {
        lock (_lock)
        {
            user.Send(ChatEvent.Topic(user.Room!.Name, user.Room.Topic));
        }
    }

    /// <summary>Sets the topic of the user's room (empty clears it): everyone in it hears, the sender too, here and elsewhere.</summary>
    public void SetTopic(ChatUser user, string topic)
    {
        lock (_lock)
        {
            var at = _time.GetUtcNow();
            var room = user.Room!;
            // One cut for every kind of client (IRC advertises TOPICLEN), whoever sets it.
            topic = topic.Length > ChatRoom.MaxTopicLength ? topic[..ChatRoom.MaxTopicLength] : topic;
            var changed = ChatEvent.TopicChanged(room.Name, user.Nick, topic);
            room.Topic = topic.Length == 0 ? null : new ChatTopic(topic, user.Nick, at);
            room.Remember(at, changed);
            user.Observer.Delivered(room.Broadcast(changed, except: null));
            if (_bus.Said(room.Name, changed, at, user.Nick) == LineRelay.Refused)
            {
                user.Send(ChatEvent.NotShared);
            }
        }

        user.Log.Message(user.Nick, user.Room?.Name ?? Lobby, "/topic " + topic);
    }

    /// <summary>The last topic set in <paramref name="history"/>, if any.</summary>
    private static ChatTopic? TopicIn(IEnumerable<(DateTimeOffset At, ChatEvent Event)> history)
    {
        var last = history.LastOrDefault(h => h.Event.Kind == ChatEventKind.TopicChanged);
        return last.Event is { } set && set.Text.Length > 0 ? new ChatTopic(set.Text, set.Nick, last.At) : null;
    }

    /// <summary>Whether the user cannot join <paramref name="roomName"/> (and was told why).</summary>
    private static bool JoinProblem(ChatUser user, string roomName)
    {
        if (ChatNames.Problem(roomName, "room name") is { } problem)
        {
            user.Send(ChatEvent.RoomRefused(roomName, problem));
            return true;
        }

        if (ChatNames.Comparer.Equals(user.Room!.Name, roomName))
        {
            user.Send(ChatEvent.AlreadyInRoom(user.Room.Name));
            return true;
        }

        return false;
    }

    /// <param name="shared">The room's history from the shared store; when unavailable, the history kept here.</param>
    /// <param name="left">The room the user moved from and the event it heard; other instances hear both from here.</param>
    /// <param name="quietly">The user is told nothing (no history, no "you are now in"); the room hears the join.</param>
    private void EnterRoom(ChatUser user, ChatRoom room, Shared<SharedRoom> shared, (string Room, ChatEvent Notice)? left = null, bool quietly = false)
    {
        var history = shared.Available ? shared.Value.History : room.History;
        // A room new here learns its topic from the shared history, if its last setting is still there.
        room.Topic ??= TopicIn(history);
        if (!quietly)
        {
            user.Send(ChatEvent.Entering(room.Name, user.Nick, left?.Room ?? "", room.Topic));
        }

        if (!quietly && history.Any())
        {
            user.Send(ChatEvent.HistoryHeader(room.Name));
            foreach (var (at, said) in history)
            {
                user.Send(ChatEvent.History(at, said));
            }
        }

        var joined = ChatEvent.Joined(room.Name, user.Nick);
        room.Broadcast(joined, except: null);
        _bus.Entered(user.Nick, room.Name, joined, left);
        room.Add(user);
        user.Room = room;
        if (!quietly)
        {
            user.Send(ChatEvent.YouJoined(room.Name, room.Members.Length));
        }
    }

    /// <param name="why">What the room hears; null for nothing (shutdown).</param>
    /// <param name="release">
    /// The user is gone, not moving: the nick is free again on every instance. A move is told to other instances with
    /// the room entered (<see cref="EnterRoom"/>), as one change.
    /// </param>
    /// <returns>The event the room heard, if any.</returns>
    private ChatEvent? LeaveRoom(ChatUser user, string? why, bool release)
    {
        if (user.Room is not { } room)
        {
            return null;
        }

        room.Remove(user);
        user.Room = null;
        var left = why is null ? null : ChatEvent.Left(room.Name, user.Nick, why);
        if (left is not null)
        {
            room.Broadcast(left, except: null);
        }

        if (release)
        {
            _bus.Left(user.Nick, room.Name, left);
        }

        if (room.Members.Length == 0 && !ChatNames.Comparer.Equals(room.Name, Lobby))
        {
            _rooms.Remove(room.Name);
            _roomCounts.Closed(room.Name);
        }

        return left;
    }

    /// <summary>Rooms are shared by every chat listener: who counts a room is for <see cref="IChatRoomCounts"/> to say.</summary>
    private ChatRoom? GetOrCreateRoom(string name, ChatUser creator)
    {
        if (_rooms.TryGetValue(name, out var room))
        {
            return room;
        }

        if (_rooms.Count >= _options.MaxRooms)
        {
            return null;
        }

        room = new ChatRoom(name, _options.HistorySize);
        _rooms.Add(name, room);
        _roomCounts.Opened(name, creator.Observer);
        return room;
    }
}
