namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// How much may wait for the database on one instance (see <see cref="BackplaneWriter"/>). Not configuration: the
/// queue must hold a burst of every user's flood allowance at once, and is bounded in memory by
/// <see cref="MaxQueuedBytes"/> whatever the line length; tests register smaller limits to reach them in seconds.
/// </summary>
/// <param name="MaxQueued">
/// Events waiting in all. Beyond it (or <see cref="MaxQueuedBytes"/>) only senders with fewer waiting than the
/// average sender are taken, up to the hard limits a tenth higher: a bystander's line still goes when many others
/// fill the queue.
/// </param>
/// <param name="MaxQueuedPerSender">Lines of one sender waiting at most; beyond, that sender's lines stay on this instance.</param>
/// <param name="MaxQueuedBytes">What the waiting events hold in memory, estimated (<see cref="BackplaneEvent.Bytes"/>).</param>
internal sealed record BackplaneLimits(int MaxQueued, int MaxQueuedPerSender, long MaxQueuedBytes)
{
    /// <summary>50,000 events (a burst of 20 lines from 2,500 users), 256 per sender, 32 MiB.</summary>
    public static BackplaneLimits Default { get; } = new(50_000, 256, 32L << 20);

    /// <summary>The number of events the queue never exceeds: <see cref="MaxQueued"/> and a tenth more for the senders below the average.</summary>
    public int HardLimit => MaxQueued + Math.Max(1, MaxQueued / 10);

    /// <summary>The memory the queue never exceeds, likewise.</summary>
    public long HardLimitBytes => MaxQueuedBytes + Math.Max(1, MaxQueuedBytes / 10);
}
