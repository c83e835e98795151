using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// This instance's users and their rooms as the chat core told the backplane (claims, renames, entries, departures;
/// a held nick stays until the core lets it go): what is registered again after an outage, without asking the core.
/// </summary>
internal sealed class BackplaneMembers
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _rooms = new(ChatNames.Comparer);

    public void Entered(string nick, string room)
    {
        lock (_lock)
        {
            _rooms[nick] = room;
        }
    }

    public void Renamed(string oldNick, string newNick, string room)
    {
        lock (_lock)
        {
            _rooms.Remove(oldNick);
            _rooms[newNick] = room;
        }
    }

    public void Left(string nick)
    {
        lock (_lock)
        {
            _rooms.Remove(nick);
        }
    }

    public IReadOnlyList<(string Nick, string Room)> Snapshot()
    {
        lock (_lock)
        {
            return _rooms.Select(m => (m.Key, m.Value)).ToList();
        }
    }
}
