namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// How many events may wait for the database on one instance (see <see cref="BackplaneWriter"/>). Not configuration:
/// what the queue holds is bounded in memory by these and <c>EchoHost:Chat:MaxLineBytes</c>; tests register smaller
/// ones to see the limits reached in seconds.
/// </summary>
/// <param name="MaxQueued">
/// Events waiting in all. Beyond it only senders with fewer waiting than the average sender are taken, up to
/// <see cref="HardLimit"/>: a bystander's line still goes when many others fill the queue.
/// </param>
/// <param name="MaxQueuedPerSender">Lines of one sender waiting at most; beyond, that sender's lines stay on this instance.</param>
internal sealed record BackplaneLimits(int MaxQueued, int MaxQueuedPerSender)
{
    public static BackplaneLimits Default { get; } = new(10_000, 256);

    /// <summary>What the queue never exceeds: <see cref="MaxQueued"/> and a tenth more for the senders below the average.</summary>
    public int HardLimit => MaxQueued + Math.Max(1, MaxQueued / 10);
}
