using System.Threading.Channels;
using EchoHost.Protocols.Chat.Core;
using CoreSharedRoom = EchoHost.Protocols.Chat.Core.SharedRoom;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The chat core's <see cref="IChatBus"/> over the PostgreSQL backplane's line contract (<see cref="IChatBackplane"/>):
/// events go out as the line protocol renders them, lines come in as verbatim events, and what the backplane
/// delivers is queued for the core to pull. It keeps the users it registered (claims, renames, entries, departures),
/// which is what the backplane registers again after an outage.
/// </summary>
internal sealed class ChatBackplaneBus : IChatBus, IChatBackplaneSink
{
    private readonly IChatBackplane _backplane;
    private readonly ChatLineRenderer _lines;
    private readonly Channel<ChatDelivery> _deliveries = Channel.CreateUnbounded<ChatDelivery>(new() { SingleReader = true });
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _registered = new(ChatNames.Comparer);

    public ChatBackplaneBus(IChatBackplane backplane, ChatLineRenderer lines)
    {
        _backplane = backplane;
        _lines = lines;
        backplane.Attach(this);
    }

    public ChannelReader<ChatDelivery> Deliveries => _deliveries.Reader;

    public async ValueTask<string?> ClaimGuestNickAsync(string room)
    {
        var nick = await _backplane.ClaimGuestNickAsync(room);
        if (nick is not null)
        {
            Register(nick, room);
        }

        return nick;
    }

    public async ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, ChatEvent notice)
    {
        var claim = await _backplane.RenameAsync(oldNick, newNick, room, _lines.Text(notice));
        // Unreachable, the core decides on what it knows, and the user is registered again under the new nick.
        if (claim != NickClaim.Taken)
        {
            lock (_lock)
            {
                _registered.Remove(oldNick);
                _registered[newNick] = room;
            }
        }

        return claim;
    }

    public LineRelay Said(string room, ChatEvent message, DateTimeOffset at, string sender) => _backplane.Said(room, _lines.Text(message), at, sender);

    public void Entered(string nick, string room, ChatEvent notice, (string Room, ChatEvent Notice)? left = null)
    {
        Register(nick, room);
        _backplane.Entered(nick, room, _lines.Text(notice), left is { } from ? (from.Room, _lines.Text(from.Notice)) : null);
    }

    public void Left(string nick, string room, ChatEvent? notice)
    {
        lock (_lock)
        {
            _registered.Remove(nick);
        }

        _backplane.Left(nick, room, notice is null ? null : _lines.Text(notice));
    }

    /// <summary>Nothing to do: this backplane tells the other instances of a rename it decided itself.</summary>
    public void Noticed(string room, ChatEvent notice)
    {
    }

    public ValueTask<Shared<string?>> SendPrivateAsync(string nick, ChatEvent message) => _backplane.SendPrivateAsync(nick, _lines.Text(message));

    public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) => _backplane.WhoAsync(room);

    public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() => _backplane.RoomsAsync();

    public async ValueTask<Shared<CoreSharedRoom>> RoomAsync(string room, int count)
    {
        var shared = await _backplane.RoomAsync(room, count);
        return shared.Available
            ? Shared<CoreSharedRoom>.Of(new CoreSharedRoom(shared.Value.Name, shared.Value.History.Select(h => (h.At, ChatEvent.Verbatim(h.Line))).ToList()))
            : Shared<CoreSharedRoom>.Unavailable;
    }

    void IChatBackplaneSink.DeliverToRoom(string room, string line, bool remember) =>
        _deliveries.Writer.TryWrite(new ChatDelivery.ToRoom(room, ChatEvent.Verbatim(line), remember));

    void IChatBackplaneSink.DeliverPrivate(string nick, string line) =>
        _deliveries.Writer.TryWrite(new ChatDelivery.ToUser(nick, ChatEvent.Verbatim(line)));

    IReadOnlyList<(string Nick, string Room)> IChatBackplaneSink.LocalUsers()
    {
        lock (_lock)
        {
            return _registered.Select(u => (u.Key, u.Value)).ToList();
        }
    }

    bool IChatBackplaneSink.ForceRename(string nick, string newNick)
    {
        string? room;
        lock (_lock)
        {
            if (!_registered.Remove(nick, out room))
            {
                return false;
            }

            _registered[newNick] = room;
        }

        return _deliveries.Writer.TryWrite(new ChatDelivery.NickLost(nick, newNick, room));
    }

    private void Register(string nick, string room)
    {
        lock (_lock)
        {
            _registered[nick] = room;
        }
    }
}
