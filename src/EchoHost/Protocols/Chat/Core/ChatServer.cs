
namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The chat itself, shared by every chat listener and every kind of client, knowing nothing of sockets, rendering or
/// metrics: a thin façade that turns commands (<see cref="ChatCommands"/>) into operations on users by nick, rooms,
/// history and delivery. One lock guards the state; deliveries only enqueue into each recipient's
/// <see cref="IChatOutbox"/>, which never blocks, so a sender never waits on a receiver and everyone in a room sees
/// events in the same order. Other instances are reached through one <see cref="IChatBus"/>, local or shared. Its jobs
/// are in files of their own: this one admits and removes users; Nicks, Rooms, Queries and Deliveries the rest.
/// </summary>
internal sealed partial class ChatServer
{
    public const string Lobby = "lobby";

    private readonly ChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IChatBus _bus;
    private readonly IChatRoomCounts _roomCounts;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChatUser> _users = new(ChatNames.Comparer);
    private readonly Dictionary<string, ChatRoom> _rooms = new(ChatNames.Comparer);

    public ChatServer(ChatOptions options, TimeProvider time, ILogger logger, IChatBus bus, IChatRoomCounts roomCounts)
    {
        _roomCounts = roomCounts;
        _options = options;
        _time = time;
        _logger = logger;
        _bus = bus;
    }

    public ChatOptions Options => _options;

    /// <summary>Runs one line from <paramref name="user"/>: a command or a message (see <see cref="ChatCommands"/>).</summary>
    public ValueTask<ChatOutcome> HandleAsync(ChatUser user, string line) => ChatCommands.Execute(this, user, line);

    /// <summary>
    /// Admits a new user to the lobby with a guest nick, or returns null when the server is full (the session was told).
    /// <paramref name="remoteEndPoint"/> (the client as the transport saw it) gives the address that may take back the
    /// user's nick after a cut. With <paramref name="welcomeOnly"/>, the user is sent the welcome line alone (no
    /// history, no "you are now in"), for a lock-step client; the room hears the join as always.
    /// </summary>
    /// <param name="nick">
    /// The nick the client asked for before it joined (IRC's registration), instead of a guest nick: kept if still
    /// free here and on every instance, a guest nick otherwise (the client learns its nick from the welcome).
    /// </param>
    public async ValueTask<ChatUser?> ConnectAsync(ChatSession session, string? remoteEndPoint = null, bool welcomeOnly = false, string? nick = null)
    {
        lock (_lock)
        {
            if (IsFull(session))
            {
                return null;
            }
        }

        // A chosen nick is claimed on every instance; taken elsewhere, it gives way to a guest nick (unreachable, this
        // instance decides alone).
        var claim = nick is null ? (NickClaim?)null : await _bus.ClaimNickAsync(nick, Lobby);
        var claimed = nick is not null && claim != NickClaim.Taken ? nick : await ClaimGuestNickAsync();

        var shared = await _bus.RoomAsync(Lobby, _options.HistorySize);

        lock (_lock)
        {
            if (IsFull(session))
            {
                if (claimed is not null)
                {
                    _bus.Left(claimed, Lobby, notice: null);
                }

                return null;
            }

            var address = ClientAddress(remoteEndPoint);
            var chosen = claimed;
            while (chosen is null || NickRefusalAt(chosen, address) is not null)
            {
                chosen = $"guest-{++_nextGuest}";
            }

            if (claim == NickClaim.Claimed && chosen != nick)
            {
                // Claimed everywhere but taken here meanwhile (or held): give the claim back.
                _bus.Left(nick!, Lobby, notice: null);
            }

            var user = new ChatUser(chosen, session, address);
            _users.Add(chosen, user);
            AddKeys(user);
            session.Observer.UserJoined();
            user.Send(ChatEvent.Welcome(chosen));
            EnterRoom(user, GetOrCreateRoom(Lobby, user)!, shared, quietly: welcomeOnly);
            return user;
        }
    }

    /// <summary>
    /// Removes the user; the room hears why, unless everyone is leaving because the server shuts down. Returns the
    /// room the user left and whether the nick is now held, or null when the user was already gone.
    /// </summary>
    /// <param name="holdNick">
    /// The user was cut (as a slow reader), which others can cause: the nick stays held for
    /// <see cref="ChatOptions.SlowReaderNickHold"/>, here and (by releasing it only then) on every instance, so nobody
    /// else can take it right after the cut; a connection from the same client address may.
    /// </param>
    public ChatDeparture? Disconnect(ChatUser user, string why, bool announce = true, bool holdNick = false)
    {
        lock (_lock)
        {
            if (!_users.Remove(user.Nick))
            {
                return null;
            }

            ForgetKeys(user);
            var room = user.Room?.Name;
            user.Observer.UserLeft();
            if (holdNick && _options.SlowReaderNickHold > TimeSpan.Zero && room is not null)
            {
                Hold(user, room, LeaveRoom(user, announce ? why : null, release: false));
                return new ChatDeparture(room, NickHeld: true);
            }

            LeaveRoom(user, announce ? why : null, release: true);
            return new ChatDeparture(room, NickHeld: false);
        }
    }

    /// <summary>Refuses the connection when <see cref="ChatOptions.MaxUsers"/> are here (the client is told).</summary>
    private bool IsFull(ChatSession session)
    {
        if (_users.Count < _options.MaxUsers)
        {
            return false;
        }

        session.Outbox.TryEnqueue(session.Renderer.Render(ChatEvent.ServerFull(_options.MaxUsers)));
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat: {Nick} is now {NewNick}: the nick was taken on another instance while the database was unreachable")]
    private partial void LogNickLost(string nick, string newNick);
}

/// <summary>What became of a user who left: the room it was in, and whether its nick is held after a cut.</summary>
internal readonly record struct ChatDeparture(string? Room, bool NickHeld);
