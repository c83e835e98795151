namespace EchoHost.Protocols.Chat.Core;

/// <summary>Questions whose answers merge what this instance knows with what the bus knows: /who, /rooms, /msg.</summary>
internal sealed partial class ChatServer
{
    public async ValueTask WhoAsync(ChatUser user, int page = 1)
    {
        string room;
        lock (_lock)
        {
            room = user.Room!.Name;
        }

        var everywhere = await _bus.WhoAsync(room);
        lock (_lock)
        {
            // Users here are always listed as they are now; the shared list adds those on other instances.
            var nicks = new HashSet<string>(user.Room!.Members.Select(m => m.Nick), ChatNames.Comparer);
            if (everywhere.Available && ChatNames.Comparer.Equals(room, user.Room.Name))
            {
                nicks.UnionWith(everywhere.Value.Where(nick => !_users.ContainsKey(nick)));
            }

            user.Send(ChatEvent.Who(user.Room.Name, nicks.Order(ChatNames.Comparer), page));
        }
    }

    /// <summary>
    /// The nicks in <paramref name="roomName"/> on every instance (as <c>/who</c> lists them), and the room's name as
    /// spelled here; null when nobody is in it anywhere.
    /// </summary>
    public async ValueTask<(string Room, IReadOnlyList<string> Nicks)?> NicksAsync(string roomName)
    {
        var everywhere = await _bus.WhoAsync(roomName);
        lock (_lock)
        {
            var nicks = new HashSet<string>(ChatNames.Comparer);
            var room = _rooms.GetValueOrDefault(roomName);
            nicks.UnionWith(room?.Members.Select(m => m.Nick) ?? []);
            if (everywhere.Available)
            {
                nicks.UnionWith(everywhere.Value.Where(nick => !_users.ContainsKey(nick)));
            }

            return nicks.Count == 0 && room is null ? null : (room?.Name ?? roomName, nicks.Order(ChatNames.Comparer).ToList());
        }
    }

    /// <summary>Every room with members here or elsewhere, its member count and its topic as known here.</summary>
    public async ValueTask<IReadOnlyList<(string Name, int Members, ChatTopic? Topic)>> RoomsAsync()
    {
        var everywhere = await _bus.RoomsAsync();
        lock (_lock)
        {
            return RoomCounts(everywhere).OrderBy(r => r.Key, ChatNames.Comparer)
                .Select(r => (r.Key, r.Value, _rooms.GetValueOrDefault(r.Key)?.Topic)).ToList();
        }
    }

    /// <summary>The user here with <paramref name="nick"/> (as it spells it, and its room), or null: a WHOIS.</summary>
    public (string Nick, string? Room)? FindHere(string nick)
    {
        lock (_lock)
        {
            return _users.TryGetValue(nick, out var user) ? (user.Nick, user.Room?.Name) : null;
        }
    }

    public async ValueTask ListRoomsAsync(ChatUser user, int page = 1)
    {
        var everywhere = await _bus.RoomsAsync();
        lock (_lock)
        {
            user.Send(ChatEvent.Rooms(RoomCounts(everywhere).Select(r => (r.Key, r.Value)).OrderBy(r => r.Key, ChatNames.Comparer), page));
        }
    }

    /// <param name="quietly">No error goes back to the sender (nobody by that nick, not keeping up): IRC's NOTICE.</param>
    public async ValueTask PrivateMessageAsync(ChatUser user, string nick, string text, bool quietly = false)
    {
        ChatUser? target;
        var refusing = false;
        lock (_lock)
        {
            if (_users.TryGetValue(nick, out target))
            {
                if (DeliverPrivate(target, ChatEvent.PrivateFrom(user.Nick, text), ref refusing))
                {
                    user.Observer.Delivered(1);
                    user.Send(ChatEvent.PrivateTo(target.Nick, text, from: user.Nick));
                }
                else
                {
                    user.Observer.LineDropped(ChatLineDropReason.RecipientBehind);
                    if (!quietly)
                    {
                        user.Send(ChatEvent.NotKeepingUp(target.Nick));
                    }
                }
            }
        }

        if (target is not null)
        {
            if (refusing)
            {
                target.Log.PrivatesRefused(target.Nick, _options.PrivateQueueLimit);
            }

            user.Log.Private(user.Nick, nick, text);
            return;
        }

        // Not here: on another instance, if anywhere. The instance that has the user counts the delivery.
        var remote = await _bus.SendPrivateAsync(nick, ChatEvent.PrivateFrom(user.Nick, text));
        if (remote.Value is { } found)
        {
            user.Send(ChatEvent.PrivateTo(found, text, from: user.Nick));
        }
        else if (!quietly)
        {
            user.Send(ChatEvent.NoSuchNick(nick));
        }

        user.Log.Private(user.Nick, nick, text);
    }

    /// <summary>
    /// A private message for <paramref name="target"/>, queued only while the target's queue holds less than
    /// <see cref="ChatOptions.PrivateQueueLimit"/>: beyond it, the sender is refused, not the target cut.
    /// </summary>
    /// <param name="refusing">Set when this starts an episode of refusals for the target (logged once, after the lock).</param>
    private bool DeliverPrivate(ChatUser target, ChatEvent message, ref bool refusing)
    {
        // Addressed to the target as it is known here (a kind that names the recipient, IRC, shows it).
        if (target.Outbox.TryEnqueueWithin(target.Renderer.Render(message with { Other = target.Nick }), _options.PrivateQueueLimit))
        {
            target.PrivatesRefused = false;
            return true;
        }

        refusing = !target.PrivatesRefused;
        target.PrivatesRefused = true;
        return false;
    }

    /// <summary>
    /// Each room's member count, under the lock. The shared counts include this instance's users; rooms only known here
    /// (or all, when the bus is unavailable) come from here.
    /// </summary>
    private Dictionary<string, int> RoomCounts(Shared<IReadOnlyList<(string Name, int Members)>> everywhere)
    {
        var rooms = new Dictionary<string, int>(ChatNames.Comparer);
        foreach (var (name, members) in everywhere.Available ? everywhere.Value : [])
        {
            rooms[name] = members;
        }

        foreach (var room in _rooms.Values)
        {
            rooms[room.Name] = Math.Max(rooms.GetValueOrDefault(room.Name), room.Members.Length);
        }

        return rooms;
    }
}
