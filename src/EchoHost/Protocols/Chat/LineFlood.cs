using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Flood control of one connection's lines, counted in the metrics: a dropped line is reported so the handler sends one
/// notice per burst of drops, in its own protocol. Not thread-safe: only the connection's reading loop uses it.
/// </summary>
internal sealed class LineFlood(ChatOptions options, TimeProvider time, ChatMetrics observer)
{
    private readonly TokenBucket _bucket = new(options.FloodBurst, options.FloodLinesPerSecond, time);
    private bool _noticeSent;

    /// <summary>Takes a token for a line; false drops it, and <paramref name="firstDrop"/> says the notice is due.</summary>
    public bool TryTake(out bool firstDrop)
    {
        firstDrop = false;
        if (_bucket.TryTake())
        {
            _noticeSent = false;
            return true;
        }

        observer.LineDropped(ChatLineDropReason.Flood);
        firstDrop = !_noticeSent;
        _noticeSent = true;
        return false;
    }
}
