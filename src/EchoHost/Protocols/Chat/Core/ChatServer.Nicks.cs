using System.Net;

namespace EchoHost.Protocols.Chat.Core;

/// <summary>Nicks and guests: who has which nick, look-alikes, the holds on the nicks of users who were cut.</summary>
internal sealed partial class ChatServer
{
    // Every user here by the keys of its nick (ChatNames.NickKeys): a nick is taken when one of its keys is.
    private readonly Dictionary<string, ChatUser> _userKeys = new(StringComparer.Ordinal);
    // Nicks of users cut as slow readers, by their keys, until their hold ends (ChatOptions.SlowReaderNickHold).
    private readonly Dictionary<string, NickHold> _held = new(StringComparer.Ordinal);
    private int _nextGuest;

    public async ValueTask ChangeNickAsync(ChatUser user, string requested)
    {
        string oldNick;
        string room;
        lock (_lock)
        {
            if (NickProblem(user, requested) is { } problem)
            {
                user.Send(ChatEvent.NickRefused(requested, problem));
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
        if (await _bus.RenameAsync(oldNick, requested, room, ChatEvent.NickChanged(room, oldNick, requested)) == NickClaim.Taken)
        {
            user.Send(ChatEvent.NickRefused(requested, "it is taken"));
            return;
        }

        lock (_lock)
        {
            // Checked again: without the shared store, two users here may have asked for it at the same time.
            if (NickProblem(user, requested) is { } problem)
            {
                user.Send(ChatEvent.NickRefused(requested, problem));
                return;
            }

            Rename(user, requested);
            user.Send(ChatEvent.YouAreNow(requested));
        }

        user.Log.NickChanged(oldNick, requested);
    }

    /// <summary>A guest nick from the shared store that nobody here has either (null when there is none to have).</summary>
    private async ValueTask<string?> ClaimGuestNickAsync()
    {
        while (await _bus.ClaimGuestNickAsync(Lobby) is { } nick)
        {
            lock (_lock)
            {
                if (!IsInUse(nick))
                {
                    return nick;
                }
            }

            // Taken here while the store was unreachable: give it back and draw the next one.
            _bus.Left(nick, Lobby, notice: null);
        }

        return null;
    }

    /// <summary>
    /// Why a client at <paramref name="remoteEndPoint"/> could not take <paramref name="nick"/> on arrival here (not a
    /// valid nick, reserved, taken or held), or null: what a client kind that chooses its nick before it joins (IRC)
    /// asks first. Another instance may still have it.
    /// </summary>
    public string? NickRefusal(string nick, string? remoteEndPoint)
    {
        lock (_lock)
        {
            return NickRefusalAt(nick, ClientAddress(remoteEndPoint));
        }
    }

    private string? NickRefusalAt(string nick, string? address) =>
        ChatNames.Problem(nick, "nick")
        ?? (ChatNames.IsReservedNick(nick) ? "that name is reserved" : null)
        ?? (IsTaken(nick, user: null, address) ? "it is taken" : null);

    private string? NickProblem(ChatUser user, string requested) =>
        ChatNames.Problem(requested, "nick")
        ?? (ChatNames.IsReservedNick(requested) ? "that name is reserved" : null)
        ?? (IsTaken(requested, user) ? "it is taken" : null);

    /// <summary>
    /// Whether someone else has <paramref name="nick"/>, one that looks like it, or holds it after a cut. A hold is
    /// no obstacle to a connection from the same client address: most likely the user who was cut, back.
    /// </summary>
    private bool IsTaken(string nick, ChatUser? user, string? address = null)
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

        var from = user?.Address ?? address;
        return HeldNick(keys) is { } hold && (from is null || from != hold.Address);
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

    /// <summary>Keeps the nick of a user who was cut, and the room's "left" event for other instances, until the hold ends.</summary>
    private void Hold(ChatUser user, string room, ChatEvent? left)
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
    }

    /// <summary>Ends a hold (once): the nick is free here, and on every instance once the bus hears the user left.</summary>
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
        _bus.Left(hold.Nick, hold.Room, hold.Left);
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

    /// <summary>Renames the user here and tells the others in the room; the bus told the other instances.</summary>
    private void Rename(ChatUser user, string newNick)
    {
        var oldNick = user.Nick;
        _users.Remove(oldNick);
        ForgetKeys(user);
        _users.Add(newNick, user);
        user.Nick = newNick;
        AddKeys(user);
        user.Room!.Broadcast(ChatEvent.NickChanged(user.Room.Name, oldNick, newNick), except: user);
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

    /// <summary>The nick of a user who was cut, kept until <see cref="Timer"/> releases it.</summary>
    private sealed class NickHold(string nick, string room, ChatEvent? left, string? address, long since)
    {
        public string Nick { get; } = nick;

        public string Room { get; } = room;

        /// <summary>The room's "left" event, for other instances when the hold ends.</summary>
        public ChatEvent? Left { get; } = left;

        public string? Address { get; } = address;

        public long Since { get; } = since;

        public ITimer? Timer { get; set; }
    }
}
