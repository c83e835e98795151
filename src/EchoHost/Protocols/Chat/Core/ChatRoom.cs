namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// A room: its members, its recent history, and the fan-out of its events (as ssh-chat's room.go). Mutated only under
/// the chat server's lock.
/// </summary>
internal sealed class ChatRoom(string name, int historySize)
{
    /// <summary>A topic longer than this is cut, however it was set.</summary>
    public const int MaxTopicLength = 300;

    private readonly Queue<(DateTimeOffset At, ChatEvent Event)> _history = new();

    public string Name { get; } = name;

    /// <summary>Copy-on-write, so a broadcast can walk it while others join and leave.</summary>
    public ChatUser[] Members { get; private set; } = [];

    public IEnumerable<(DateTimeOffset At, ChatEvent Event)> History => _history;

    /// <summary>The room's topic, if it has one: set here, by another instance, or found in the shared history.</summary>
    public ChatTopic? Topic { get; set; }

    public void Add(ChatUser user) => Members = [.. Members, user];

    public void Remove(ChatUser user) => Members = Members.Where(m => m != user).ToArray();

    public void Remember(DateTimeOffset at, ChatEvent chatEvent)
    {
        if (historySize <= 0)
        {
            return;
        }

        if (_history.Count == historySize)
        {
            _history.Dequeue();
        }

        _history.Enqueue((at, chatEvent));
    }

    /// <summary>
    /// Queues the event for every member but <paramref name="except"/>, rendered once per client kind (members of a
    /// kind share their renderer); returns how many accepted it.
    /// </summary>
    public int Broadcast(ChatEvent chatEvent, ChatUser? except)
    {
        var rendered = new RenderCache(chatEvent);
        var delivered = 0;
        foreach (var member in Members)
        {
            if (member != except && member.Outbox.TryEnqueue(rendered.For(member.Renderer)))
            {
                delivered++;
            }
        }

        return delivered;
    }

    /// <summary>An event's bytes per renderer: the last one at hand (usually the only kind), the others in a short list.</summary>
    private struct RenderCache(ChatEvent chatEvent)
    {
        private IChatRenderer? _last;
        private byte[]? _lastBytes;
        private List<(IChatRenderer Renderer, byte[] Bytes)>? _others;

        public byte[] For(IChatRenderer renderer)
        {
            if (ReferenceEquals(renderer, _last))
            {
                return _lastBytes!;
            }

            if (_last is not null)
            {
                (_others ??= []).Add((_last, _lastBytes!));
            }

            var found = _others?.FindIndex(o => ReferenceEquals(o.Renderer, renderer)) ?? -1;
            var bytes = found >= 0 ? _others![found].Bytes : renderer.Render(chatEvent);
            if (found >= 0)
            {
                _others!.RemoveAt(found);
            }

            (_last, _lastBytes) = (renderer, bytes);
            return bytes;
        }
    }
}
