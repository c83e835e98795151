namespace EchoHost.Protocols.Chat;

/// <summary>A room: its members and its recent history. Mutated only under the chat server's lock.</summary>
internal sealed class ChatRoom(string name, int historySize, IChatObserver countedBy)
{
    private readonly Queue<(DateTimeOffset At, string Line)> _history = new();

    public string Name { get; } = name;

    /// <summary>Rooms are shared by every chat listener; the observer of the user who opened it counts it until it closes.</summary>
    public IChatObserver CountedBy { get; } = countedBy;

    /// <summary>Copy-on-write, so a broadcast can walk it while others join and leave.</summary>
    public ChatUser[] Members { get; private set; } = [];

    public IEnumerable<(DateTimeOffset At, string Line)> History => _history;

    public void Add(ChatUser user) => Members = [.. Members, user];

    public void Remove(ChatUser user) => Members = Members.Where(m => m != user).ToArray();

    public void Remember(DateTimeOffset at, string line)
    {
        if (historySize <= 0)
        {
            return;
        }

        if (_history.Count == historySize)
        {
            _history.Dequeue();
        }

        _history.Enqueue((at, line));
    }
}
