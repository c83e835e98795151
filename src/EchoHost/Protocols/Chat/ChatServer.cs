using EchoHost.Configuration;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The chat itself, shared by every chat listener and knowing nothing of sockets or metrics: users by nick, rooms,
/// history, and delivery. One lock guards the state; deliveries only enqueue into each recipient's
/// <see cref="IChatOutbox"/>, which never blocks, so a sender never waits on a receiver and everyone in a room sees
/// messages in the same order. What it counts goes to each user's <see cref="IChatObserver"/>.
/// </summary>
internal sealed partial class ChatServer(ChatOptions options, TimeProvider time, ILogger<ChatServer> logger)
{
    public const string Lobby = "lobby";

    private readonly ChatOptions _options = options;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChatUser> _users = new(ChatNames.Comparer);
    private readonly Dictionary<string, ChatRoom> _rooms = new(ChatNames.Comparer);
    private int _nextGuest;

    public ChatOptions Options => _options;

    /// <summary>Runs one line from <paramref name="user"/>: a command or a message (see <see cref="ChatCommands"/>).</summary>
    public ChatOutcome Handle(ChatUser user, string line) => ChatCommands.Execute(this, user, line);

    /// <summary>
    /// Admits a new user to the lobby with a guest nick, or returns null when the server is full (the user's outbox
    /// then holds the notice). <paramref name="connectionId"/> only names the connection in that refusal's log line.
    /// </summary>
    public ChatUser? Connect(string connectionId, string listener, IChatOutbox outbox, IChatObserver observer)
    {
        ChatUser user;
        lock (_lock)
        {
            if (_users.Count >= _options.MaxUsers)
            {
                outbox.TryEnqueue(ChatMessages.Encode(ChatMessages.ServerFull(_options.MaxUsers)));
                LogServerFull(listener, connectionId, _options.MaxUsers);
                return null;
            }

            string nick;
            do
            {
                nick = $"guest-{++_nextGuest}";
            }
            while (_users.ContainsKey(nick));

            user = new ChatUser(listener, nick, outbox, observer);
            _users.Add(nick, user);
            observer.UserJoined();
            user.Send(ChatMessages.Welcome(nick));
            EnterRoom(user, GetOrCreateRoom(Lobby, user)!);
        }

        LogJoined(listener, user.Nick, Lobby);
        return user;
    }

    /// <summary>Removes the user; the room hears why, unless everyone is leaving because the server shuts down.</summary>
    public void Disconnect(ChatUser user, string why, bool announce = true)
    {
        string? room;
        lock (_lock)
        {
            if (!_users.Remove(user.Nick))
            {
                return;
            }

            room = user.Room?.Name;
            user.Observer.UserLeft();
            LeaveRoom(user, announce ? why : null);
        }

        LogLeft(user.Listener, user.Nick, room, why);
    }

    public void Say(ChatUser user, string text) => Broadcast(user, ChatMessages.Message(user.Nick, text), text);

    public void Act(ChatUser user, string action) => Broadcast(user, ChatMessages.Action(user.Nick, action), action);

    public void ChangeNick(ChatUser user, string requested)
    {
        string oldNick;
        lock (_lock)
        {
            var problem = ChatNames.Problem(requested, "nick")
                ?? (ChatNames.IsReservedNick(requested) ? "that name is reserved" : null)
                ?? (_users.TryGetValue(requested, out var owner) && owner != user ? "it is taken" : null);
            if (problem is not null)
            {
                user.Send(ChatMessages.NickRefused(requested, problem));
                return;
            }

            oldNick = user.Nick;
            _users.Remove(oldNick);
            _users.Add(requested, user);
            user.Nick = requested;
            user.Send(ChatMessages.YouAreNow(requested));
            SendToRoom(user.Room!, ChatMessages.Encode(ChatMessages.NickChanged(oldNick, requested)), except: user);
        }

        LogNickChanged(user.Listener, oldNick, requested);
    }

    public void Join(ChatUser user, string roomName)
    {
        string from;
        lock (_lock)
        {
            if (ChatNames.Problem(roomName, "room name") is { } problem)
            {
                user.Send(ChatMessages.RoomRefused(roomName, problem));
                return;
            }

            if (ChatNames.Comparer.Equals(user.Room!.Name, roomName))
            {
                user.Send(ChatMessages.AlreadyInRoom(user.Room.Name));
                return;
            }

            if (GetOrCreateRoom(roomName, user) is not { } room)
            {
                user.Send(ChatMessages.RoomRefused(roomName, $"there are already {_options.MaxRooms} rooms (MaxRooms)"));
                LogTooManyRooms(user.Listener, user.Nick, roomName, _options.MaxRooms);
                return;
            }

            from = user.Room.Name;
            LeaveRoom(user, $"joined {room.Name}");
            EnterRoom(user, room);
            roomName = room.Name;
        }

        LogMoved(user.Listener, user.Nick, from, roomName);
    }

    public void Who(ChatUser user)
    {
        lock (_lock)
        {
            user.Send(ChatMessages.Who(user.Room!.Name, user.Room.Members.Select(m => m.Nick)));
        }
    }

    public void ListRooms(ChatUser user)
    {
        lock (_lock)
        {
            user.Send(ChatMessages.Rooms(_rooms.Values.Select(r => (r.Name, r.Members.Length))));
        }
    }

    public void PrivateMessage(ChatUser user, string nick, string text)
    {
        lock (_lock)
        {
            if (!_users.TryGetValue(nick, out var target))
            {
                user.Send(ChatMessages.NoSuchNick(nick));
                return;
            }

            if (target.Outbox.TryEnqueue(ChatMessages.Encode(ChatMessages.PrivateFrom(user.Nick, text))))
            {
                user.Observer.Delivered(1);
            }

            user.Send(ChatMessages.PrivateTo(target.Nick, text));
        }

        LogPrivate(user.Listener, user.Nick, nick, text);
    }

    private void Broadcast(ChatUser sender, string line, string text)
    {
        string room;
        lock (_lock)
        {
            room = sender.Room!.Name;
            sender.Room.Remember(time.GetUtcNow(), line);
            sender.Observer.Delivered(SendToRoom(sender.Room, ChatMessages.Encode(line), except: sender));
        }

        LogMessage(sender.Listener, sender.Nick, room, text);
    }

    /// <summary>Queues the line for every member but <paramref name="except"/>; returns how many accepted it.</summary>
    private static int SendToRoom(ChatRoom room, byte[] line, ChatUser? except)
    {
        var delivered = 0;
        foreach (var member in room.Members)
        {
            if (member != except && member.Outbox.TryEnqueue(line))
            {
                delivered++;
            }
        }

        return delivered;
    }

    private void EnterRoom(ChatUser user, ChatRoom room)
    {
        if (room.History.Any())
        {
            user.Send(ChatMessages.HistoryHeader(room.Name));
            foreach (var (at, line) in room.History)
            {
                user.Send(ChatMessages.HistoryEntry(at, line));
            }
        }

        SendToRoom(room, ChatMessages.Encode(ChatMessages.Joined(user.Nick, room.Name)), except: null);
        room.Add(user);
        user.Room = room;
        user.Send(ChatMessages.YouJoined(room.Name, room.Members.Length));
    }

    private void LeaveRoom(ChatUser user, string? why)
    {
        if (user.Room is not { } room)
        {
            return;
        }

        room.Remove(user);
        user.Room = null;
        if (why is not null)
        {
            SendToRoom(room, ChatMessages.Encode(ChatMessages.Left(user.Nick, room.Name, why)), except: null);
        }

        if (room.Members.Length == 0 && !ChatNames.Comparer.Equals(room.Name, Lobby))
        {
            _rooms.Remove(room.Name);
            room.CountedBy.RoomClosed();
        }
    }

    /// <summary>Rooms are shared by every chat listener; the one whose user opens or closes a room counts it.</summary>
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

        room = new ChatRoom(name, _options.HistorySize, creator.Observer);
        _rooms.Add(name, room);
        creator.Observer.RoomOpened();
        return room;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} joined {Room}")]
    private partial void LogJoined(string listener, string nick, string room);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} left {Room} ({Reason})")]
    private partial void LogLeft(string listener, string nick, string? room, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {OldNick} is now {Nick}")]
    private partial void LogNickChanged(string listener, string oldNick, string nick);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} moved from {FromRoom} to {Room}")]
    private partial void LogMoved(string listener, string nick, string fromRoom, string room);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: refused connection {ConnectionId}: server full (MaxUsers = {MaxUsers})")]
    private partial void LogServerFull(string listener, string connectionId, int maxUsers);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} could not create room {Room}: MaxRooms = {MaxRooms} reached")]
    private partial void LogTooManyRooms(string listener, string nick, string room, int maxRooms);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} chat: <{Nick}> in {Room}: {Text}")]
    private partial void LogMessage(string listener, string nick, string room, string text);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} chat: {Nick} to {Target}: {Text}")]
    private partial void LogPrivate(string listener, string nick, string target, string text);
}
