using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The chat itself, shared by every chat listener and knowing nothing of sockets or metrics: users by nick, rooms,
/// history, and delivery. One lock guards the state; deliveries only enqueue into each recipient's
/// <see cref="IChatOutbox"/>, which never blocks, so a sender never waits on a receiver and everyone in a room sees
/// messages in the same order. What it counts goes to each user's <see cref="IChatObserver"/>.
/// </summary>
internal sealed partial class ChatServer : IChatBackplaneSink
{
    public const string Lobby = "lobby";

    private readonly ChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ChatServer> _logger;
    private readonly IChatBackplane? _backplane;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChatUser> _users = new(ChatNames.Comparer);
    private readonly Dictionary<string, ChatRoom> _rooms = new(ChatNames.Comparer);
    // Every user here by the keys of its nick (ChatNames.NickKeys): a nick is taken when one of its keys is.
    private readonly Dictionary<string, ChatUser> _userKeys = new(StringComparer.Ordinal);
    // Nicks of users cut as slow readers, by their keys, until their hold ends (ChatOptions.SlowReaderNickHold).
    private readonly Dictionary<string, NickHold> _held = new(StringComparer.Ordinal);
    private int _nextGuest;

    /// <param name="backplane">Shares the chat with other instances (scale-out); null keeps it in this process.</param>
    public ChatServer(ChatOptions options, TimeProvider time, ILogger<ChatServer> logger, IChatBackplane? backplane = null)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _backplane = backplane;
        backplane?.Attach(this);
    }

    public ChatOptions Options => _options;

    /// <summary>Runs one line from <paramref name="user"/>: a command or a message (see <see cref="ChatCommands"/>).</summary>
    public ValueTask<ChatOutcome> HandleAsync(ChatUser user, string line) => ChatCommands.Execute(this, user, line);

    /// <summary><see cref="HandleAsync"/> for callers that cannot wait: it completes at once without a backplane.</summary>
    public ChatOutcome Handle(ChatUser user, string line) => Wait(HandleAsync(user, line));

    /// <summary><see cref="ConnectAsync"/> for callers that cannot wait: it completes at once without a backplane.</summary>
    public ChatUser? Connect(string connectionId, string listener, IChatOutbox outbox, IChatObserver observer, string? remoteEndPoint = null) =>
        Wait(ConnectAsync(connectionId, listener, outbox, observer, remoteEndPoint));

    /// <summary>
    /// Admits a new user to the lobby with a guest nick, or returns null when the server is full (the user's outbox
    /// then holds the notice). <paramref name="connectionId"/> only names the connection in that refusal's log line,
    /// and <paramref name="remoteEndPoint"/> (the client as the transport saw it, after the PROXY protocol) the user in
    /// the log line of their arrival: operators see where a nick came from, other users never do.
    /// </summary>
    public async ValueTask<ChatUser?> ConnectAsync(string connectionId, string listener, IChatOutbox outbox, IChatObserver observer,
        string? remoteEndPoint = null)
    {
        string? claimed = null;
        var shared = Shared<SharedRoom>.Unavailable;
        if (_backplane is not null)
        {
            lock (_lock)
            {
                if (IsFull(connectionId, listener, outbox))
                {
                    return null;
                }
            }

            claimed = await ClaimGuestNickAsync(_backplane);
            shared = await _backplane.RoomAsync(Lobby, _options.HistorySize);
        }

        ChatUser user;
        lock (_lock)
        {
            if (IsFull(connectionId, listener, outbox))
            {
                if (claimed is not null)
                {
                    _backplane!.Left(claimed, Lobby, notice: null);
                }

                return null;
            }

            var nick = claimed;
            while (nick is null || IsInUse(nick))
            {
                nick = $"guest-{++_nextGuest}";
            }

            user = new ChatUser(listener, nick, outbox, observer) { Address = ClientAddress(remoteEndPoint) };
            _users.Add(nick, user);
            AddKeys(user);
            observer.UserJoined();
            user.Send(ChatMessages.Welcome(nick));
            EnterRoom(user, GetOrCreateRoom(Lobby, user)!, shared);
        }

        LogArrived(listener, user.Nick, Lobby, remoteEndPoint ?? "-");
        return user;
    }

    /// <summary>Removes the user; the room hears why, unless everyone is leaving because the server shuts down.</summary>
    /// <param name="holdNick">
    /// The user was cut (as a slow reader), which others can cause: the nick stays held for
    /// <see cref="ChatOptions.SlowReaderNickHold"/>, here and (by releasing it only then) on every instance, so nobody
    /// else can take it right after the cut; a connection from the same client address may.
    /// </param>
    public void Disconnect(ChatUser user, string why, bool announce = true, bool holdNick = false)
    {
        string? room;
        var held = false;
        lock (_lock)
        {
            if (!_users.Remove(user.Nick))
            {
                return;
            }

            ForgetKeys(user);
            room = user.Room?.Name;
            user.Observer.UserLeft();
            if (holdNick && _options.SlowReaderNickHold > TimeSpan.Zero && room is not null)
            {
                held = Hold(user, room, LeaveRoom(user, announce ? why : null, release: false));
            }
            else
            {
                LeaveRoom(user, announce ? why : null, release: true);
            }
        }

        if (held)
        {
            LogNickHeld(user.Listener, user.Nick, user.Address ?? "-", _options.SlowReaderNickHold);
        }

        LogLeft(user.Listener, user.Nick, room, why);
    }

    public void Say(ChatUser user, string text) => Broadcast(user, ChatMessages.Message(user.Nick, text), text);

    public void Act(ChatUser user, string action) => Broadcast(user, ChatMessages.Action(user.Nick, action), action);

    public async ValueTask ChangeNickAsync(ChatUser user, string requested)
    {
        string oldNick;
        string room;
        lock (_lock)
        {
            if (NickProblem(user, requested) is { } problem)
            {
                user.Send(ChatMessages.NickRefused(requested, problem));
                return;
            }

            oldNick = user.Nick;
            room = user.Room!.Name;
            // The user's own held nick (NickProblem let it through): free it everywhere, ahead of the claim below.
            if (HeldNick(ChatNames.NickKeys(requested)) is { } hold)
            {
                Release(hold);
            }
        }

        // Only this user's own read loop changes its nick (but for the rare rename after an outage), so oldNick
        // still holds after the wait.
        if (_backplane is not null
            && await _backplane.RenameAsync(oldNick, requested, room, ChatMessages.NickChanged(oldNick, requested)) == NickClaim.Taken)
        {
            user.Send(ChatMessages.NickRefused(requested, "it is taken"));
            return;
        }

        lock (_lock)
        {
            // Checked again: without the shared store, two users here may have asked for it at the same time.
            if (NickProblem(user, requested) is { } problem)
            {
                user.Send(ChatMessages.NickRefused(requested, problem));
                return;
            }

            Rename(user, requested);
            user.Send(ChatMessages.YouAreNow(requested));
        }

        LogNickChanged(user.Listener, oldNick, requested);
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

        var shared = _backplane is null ? Shared<SharedRoom>.Unavailable : await _backplane.RoomAsync(roomName, _options.HistorySize);

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
                user.Send(ChatMessages.RoomRefused(roomName, $"there are already {_options.MaxRooms} rooms (MaxRooms)"));
                LogTooManyRooms(user.Listener, user.Nick, roomName, _options.MaxRooms);
                return;
            }

            from = user.Room!.Name;
            var left = LeaveRoom(user, $"joined {room.Name}", release: false);
            EnterRoom(user, room, shared, left is null ? null : (from, left));
            roomName = room.Name;
        }

        LogMoved(user.Listener, user.Nick, from, roomName);
    }

    public async ValueTask WhoAsync(ChatUser user, int page = 1)
    {
        string room;
        lock (_lock)
        {
            room = user.Room!.Name;
        }

        var everywhere = _backplane is null ? Shared<IReadOnlyList<string>>.Unavailable : await _backplane.WhoAsync(room);
        lock (_lock)
        {
            // Users here are always listed as they are now; the shared list adds those on other instances.
            var nicks = new HashSet<string>(user.Room!.Members.Select(m => m.Nick), ChatNames.Comparer);
            if (everywhere.Available && ChatNames.Comparer.Equals(room, user.Room.Name))
            {
                nicks.UnionWith(everywhere.Value.Where(nick => !_users.ContainsKey(nick)));
            }

            SendPage(user, ChatMessages.Who(user.Room.Name, nicks, AnswerLineBytes), "/who", page);
        }
    }

    public async ValueTask ListRoomsAsync(ChatUser user, int page = 1)
    {
        var everywhere = _backplane is null
            ? Shared<IReadOnlyList<(string Name, int Members)>>.Unavailable
            : await _backplane.RoomsAsync();
        lock (_lock)
        {
            // The shared counts include this instance's users; rooms only known here (or all, when unavailable) come from here.
            var rooms = new Dictionary<string, int>(ChatNames.Comparer);
            foreach (var (name, members) in everywhere.Available ? everywhere.Value : [])
            {
                rooms[name] = members;
            }

            foreach (var room in _rooms.Values)
            {
                rooms[room.Name] = Math.Max(rooms.GetValueOrDefault(room.Name), room.Members.Length);
            }

            SendPage(user, ChatMessages.Rooms(rooms.Select(r => (r.Key, r.Value)), AnswerLineBytes), "/rooms", page);
        }
    }

    public async ValueTask PrivateMessageAsync(ChatUser user, string nick, string text)
    {
        ChatUser? target;
        var refusing = false;
        lock (_lock)
        {
            if (_users.TryGetValue(nick, out target))
            {
                if (DeliverPrivate(target, ChatMessages.PrivateFrom(user.Nick, text), ref refusing))
                {
                    user.Observer.Delivered(1);
                    user.Send(ChatMessages.PrivateTo(target.Nick, text));
                }
                else
                {
                    user.Observer.LineDropped(ChatLineDropReason.RecipientBehind);
                    user.Send(ChatMessages.NotKeepingUp(target.Nick));
                }
            }
        }

        if (target is not null)
        {
            if (refusing)
            {
                LogPrivatesRefused(target.Listener, target.Nick, _options.PrivateQueueLimit);
            }

            LogPrivate(user.Listener, user.Nick, nick, text);
            return;
        }

        // Not here: on another instance, if anywhere. The instance that has the user counts the delivery.
        var remote = _backplane is null ? Shared<string?>.Unavailable : await _backplane.SendPrivateAsync(nick, ChatMessages.PrivateFrom(user.Nick, text));
        user.Send(remote.Value is { } found ? ChatMessages.PrivateTo(found, text) : ChatMessages.NoSuchNick(nick));
        LogPrivate(user.Listener, user.Nick, nick, text);
    }

    void IChatBackplaneSink.DeliverToRoom(string room, string line, bool remember)
    {
        lock (_lock)
        {
            if (_rooms.TryGetValue(room, out var here))
            {
                if (remember)
                {
                    here.Remember(_time.GetUtcNow(), line);
                }

                here.CountedBy.Delivered(SendToRoom(here, ChatMessages.Encode(line), except: null));
            }
        }
    }

    void IChatBackplaneSink.DeliverPrivate(string nick, string line)
    {
        ChatUser? target;
        var refusing = false;
        lock (_lock)
        {
            // A sender on another instance is not told (the store carries no answer back); the recipient stays all the same.
            if (_users.TryGetValue(nick, out target) && DeliverPrivate(target, line, ref refusing))
            {
                target.Observer.Delivered(1);
            }
        }

        if (refusing)
        {
            LogPrivatesRefused(target!.Listener, target.Nick, _options.PrivateQueueLimit);
        }
    }

    IReadOnlyList<(string Nick, string Room)> IChatBackplaneSink.LocalUsers()
    {
        lock (_lock)
        {
            // Held nicks too: they stay claimed in the shared store until their hold ends.
            return _users.Values.Select(u => (u.Nick, u.Room?.Name ?? Lobby)).Concat(_held.Values.Distinct().Select(h => (h.Nick, h.Room))).ToList();
        }
    }

    bool IChatBackplaneSink.ForceRename(string nick, string newNick)
    {
        lock (_lock)
        {
            if (!_users.TryGetValue(nick, out var user) || IsInUse(newNick))
            {
                return false;
            }

            nick = user.Nick;
            Rename(user, newNick);
            user.Send(ChatMessages.NickLostInOutage(nick, newNick));
        }

        LogNickLost(nick, newNick);
        return true;
    }

    private static T Wait<T>(ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    /// <summary>Refuses the connection when <see cref="ChatOptions.MaxUsers"/> are here (the outbox gets the notice).</summary>
    private bool IsFull(string connectionId, string listener, IChatOutbox outbox)
    {
        if (_users.Count < _options.MaxUsers)
        {
            return false;
        }

        outbox.TryEnqueue(ChatMessages.Encode(ChatMessages.ServerFull(_options.MaxUsers)));
        LogServerFull(listener, connectionId, _options.MaxUsers);
        return true;
    }

    /// <summary>A guest nick from the shared store that nobody here has either (null when the store is unavailable).</summary>
    private async ValueTask<string?> ClaimGuestNickAsync(IChatBackplane backplane)
    {
        while (await backplane.ClaimGuestNickAsync(Lobby) is { } nick)
        {
            lock (_lock)
            {
                if (!IsInUse(nick))
                {
                    return nick;
                }
            }

            // Taken here while the store was unreachable: give it back and draw the next one.
            backplane.Left(nick, Lobby, notice: null);
        }

        return null;
    }

    private string? NickProblem(ChatUser user, string requested) =>
        ChatNames.Problem(requested, "nick")
        ?? (ChatNames.IsReservedNick(requested) ? "that name is reserved" : null)
        ?? (IsTaken(requested, user) ? "it is taken" : null);

    /// <summary>
    /// Whether someone else has <paramref name="nick"/>, one that looks like it, or holds it after a cut. A hold is
    /// no obstacle to a connection from the same client address: most likely the user who was cut, back.
    /// </summary>
    private bool IsTaken(string nick, ChatUser? user)
    {
        // Computed once: a skeleton walks the confusables table.
        var keys = ChatNames.NickKeys(nick);
        foreach (var key in keys)
        {
            if (_userKeys.TryGetValue(key, out var owner) && owner != user)
            {
                return true;
            }
        }

        return HeldNick(keys) is { } hold && (user?.Address is null || user.Address != hold.Address);
    }

    private bool IsInUse(string nick) => IsTaken(nick, user: null);

    /// <summary>The hold on a nick with these keys (or a look-alike) if one is still running; an ended one is released now.</summary>
    private NickHold? HeldNick(string[] nickKeys)
    {
        var hold = nickKeys.Select(key => _held.GetValueOrDefault(key)).FirstOrDefault(h => h is not null);
        if (hold is null)
        {
            return null;
        }

        if (_time.GetElapsedTime(hold.Since) < _options.SlowReaderNickHold)
        {
            return hold;
        }

        Release(hold);
        return null;
    }

    /// <summary>Keeps the nick of a user who was cut, and the room's "left" line for other instances, until the hold ends.</summary>
    private bool Hold(ChatUser user, string room, string? left)
    {
        foreach (var key in ChatNames.NickKeys(user.Nick))
        {
            if (_held.GetValueOrDefault(key) is { } earlier)
            {
                Release(earlier);
            }
        }

        var hold = new NickHold(user.Nick, room, left, user.Address, _time.GetTimestamp());
        foreach (var key in ChatNames.NickKeys(hold.Nick))
        {
            _held[key] = hold;
        }

        hold.Timer = _time.CreateTimer(static state =>
        {
            var (server, hold) = ((ChatServer, NickHold))state!;
            lock (server._lock)
            {
                server.Release(hold);
            }
        }, (this, hold), _options.SlowReaderNickHold, Timeout.InfiniteTimeSpan);
        return true;
    }

    /// <summary>Ends a hold (once): the nick is free here, and on every instance once the backplane hears the user left.</summary>
    private void Release(NickHold hold)
    {
        var keys = ChatNames.NickKeys(hold.Nick);
        if (_held.GetValueOrDefault(keys[0]) != hold)
        {
            return;
        }

        foreach (var key in keys)
        {
            if (_held.GetValueOrDefault(key) == hold)
            {
                _held.Remove(key);
            }
        }

        hold.Timer?.Dispose();
        _backplane?.Left(hold.Nick, hold.Room, hold.Left);
    }

    private void AddKeys(ChatUser user)
    {
        foreach (var key in ChatNames.NickKeys(user.Nick))
        {
            _userKeys[key] = user;
        }
    }

    private void ForgetKeys(ChatUser user)
    {
        foreach (var key in ChatNames.NickKeys(user.Nick))
        {
            if (_userKeys.GetValueOrDefault(key) == user)
            {
                _userKeys.Remove(key);
            }
        }
    }

    /// <summary>The client's address without its port (what a reconnect from the same client shares), or null.</summary>
    private static string? ClientAddress(string? remoteEndPoint)
    {
        if (remoteEndPoint is null || !IPEndPoint.TryParse(remoteEndPoint, out var endPoint))
        {
            return remoteEndPoint;
        }

        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return address.ToString();
    }

    /// <summary>
    /// A private line for <paramref name="target"/>, queued only while the target's queue holds less than
    /// <see cref="ChatOptions.PrivateQueueLimit"/>: beyond it, the sender is refused, not the target cut.
    /// </summary>
    /// <param name="refusing">Set when this starts an episode of refusals for the target (logged once, after the lock).</param>
    private static bool DeliverPrivate(ChatUser target, string line, long limit, ref bool refusing)
    {
        if (target.Outbox.TryEnqueueWithin(ChatMessages.Encode(line), limit))
        {
            target.PrivatesRefused = false;
            return true;
        }

        refusing = !target.PrivatesRefused;
        target.PrivatesRefused = true;
        return false;
    }

    private bool DeliverPrivate(ChatUser target, string line, ref bool refusing) =>
        DeliverPrivate(target, line, _options.PrivateQueueLimit, ref refusing);

    /// <summary>An answer to a user's own command is one line of at most this many bytes: it fits the user's queue.</summary>
    private int AnswerLineBytes => _options.MaxLineBytes + ChatOptions.LineOverheadBytes;

    private static void SendPage(ChatUser user, IReadOnlyList<string> pages, string command, int page) =>
        user.Send(page <= pages.Count ? pages[page - 1] : ChatMessages.NoSuchPage(command, page, pages.Count));

    /// <summary>Whether the user cannot join <paramref name="roomName"/> (and was told why).</summary>
    private static bool JoinProblem(ChatUser user, string roomName)
    {
        if (ChatNames.Problem(roomName, "room name") is { } problem)
        {
            user.Send(ChatMessages.RoomRefused(roomName, problem));
            return true;
        }

        if (ChatNames.Comparer.Equals(user.Room!.Name, roomName))
        {
            user.Send(ChatMessages.AlreadyInRoom(user.Room.Name));
            return true;
        }

        return false;
    }

    /// <summary>Renames the user here and tells the others in the room; the backplane told the other instances.</summary>
    private void Rename(ChatUser user, string newNick)
    {
        var oldNick = user.Nick;
        _users.Remove(oldNick);
        ForgetKeys(user);
        _users.Add(newNick, user);
        user.Nick = newNick;
        AddKeys(user);
        SendToRoom(user.Room!, ChatMessages.Encode(ChatMessages.NickChanged(oldNick, newNick)), except: user);
    }

    private void Broadcast(ChatUser sender, string line, string text)
    {
        string room;
        lock (_lock)
        {
            var at = _time.GetUtcNow();
            room = sender.Room!.Name;
            sender.Room.Remember(at, line);
            sender.Observer.Delivered(SendToRoom(sender.Room, ChatMessages.Encode(line), except: sender));
            // Under the lock, so other instances see this instance's lines in the order its users saw them.
            if (_backplane?.Said(room, line, at, sender.Nick) == LineRelay.Refused)
            {
                sender.Send(ChatMessages.NotShared);
            }
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

    /// <param name="shared">The room's history from the shared store; when unavailable, the history kept here.</param>
    /// <param name="left">The room the user moved from and the line it heard; other instances hear both from here.</param>
    private void EnterRoom(ChatUser user, ChatRoom room, Shared<SharedRoom> shared, (string Room, string Notice)? left = null)
    {
        var history = shared.Available ? shared.Value.History : room.History;
        if (history.Any())
        {
            user.Send(ChatMessages.HistoryHeader(room.Name));
            foreach (var (at, line) in history)
            {
                user.Send(ChatMessages.HistoryEntry(at, line));
            }
        }

        var joined = ChatMessages.Joined(user.Nick, room.Name);
        SendToRoom(room, ChatMessages.Encode(joined), except: null);
        _backplane?.Entered(user.Nick, room.Name, joined, left);
        room.Add(user);
        user.Room = room;
        user.Send(ChatMessages.YouJoined(room.Name, room.Members.Length));
    }

    /// <param name="why">What the room hears; null for nothing (shutdown).</param>
    /// <param name="release">
    /// The user is gone, not moving: the nick is free again on every instance. A move is told to other instances with
    /// the room entered (<see cref="EnterRoom"/>), as one change.
    /// </param>
    /// <returns>The line the room heard, if any.</returns>
    private string? LeaveRoom(ChatUser user, string? why, bool release)
    {
        if (user.Room is not { } room)
        {
            return null;
        }

        room.Remove(user);
        user.Room = null;
        var left = why is null ? null : ChatMessages.Left(user.Nick, room.Name, why);
        if (left is not null)
        {
            SendToRoom(room, ChatMessages.Encode(left), except: null);
        }

        if (release)
        {
            _backplane?.Left(user.Nick, room.Name, left);
        }

        if (room.Members.Length == 0 && !ChatNames.Comparer.Equals(room.Name, Lobby))
        {
            _rooms.Remove(room.Name);
            room.CountedBy.RoomClosed();
        }

        return left;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} joined {Room} from {RemoteEndPoint}")]
    private partial void LogArrived(string listener, string nick, string room, string remoteEndPoint);

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat: {Nick} is now {NewNick}: the nick was taken on another instance while the database was unreachable")]
    private partial void LogNickLost(string nick, string newNick);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} chat: {Nick} to {Target}: {Text}")]
    private partial void LogPrivate(string listener, string nick, string target, string text);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: refusing private messages to {Nick}: it is not keeping up (MaxQueuedPrivateBytes = {MaxQueuedPrivateBytes}); their senders are told")]
    private partial void LogPrivatesRefused(string listener, string nick, int maxQueuedPrivateBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: holding the nick {Nick} for {Hold} after a slow-reader cut; only {Address} may take it meanwhile")]
    private partial void LogNickHeld(string listener, string nick, string address, TimeSpan hold);

    /// <summary>The nick of a user who was cut, kept until <see cref="Timer"/> releases it.</summary>
    private sealed class NickHold(string nick, string room, string? left, string? address, long since)
    {
        public string Nick { get; } = nick;

        public string Room { get; } = room;

        /// <summary>The room's "left" line, for other instances when the hold ends.</summary>
        public string? Left { get; } = left;

        public string? Address { get; } = address;

        public long Since { get; } = since;

        public ITimer? Timer { get; set; }
    }
}
