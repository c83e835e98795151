using System.Globalization;

namespace EchoHost.Load;

/// <summary>
/// How evenly the server served the connections of a run: <paramref name="Ratio"/> is the most-served connection's
/// completed operations in the measured phase (stream: bytes echoed) over the least-served's; 1 is perfectly even.
/// A connection that completed none makes it unbounded: <see cref="Unbounded"/> stands for infinity, which JSON has
/// no number for.
/// </summary>
internal sealed record Fairness(double Ratio, long Most, long Least, string Unit)
{
    /// <summary>The ratio when the least-served connection completed nothing (printed as ∞).</summary>
    public const double Unbounded = 1e9;

    public bool IsUnbounded => Ratio >= Unbounded;

    /// <summary>
    /// The fairness of a run from each connection's count, or null when there is nothing to compare (one connection,
    /// or a mode whose operations are not a connection's service, such as hold).
    /// </summary>
    public static Fairness? Of(LoadRun run)
    {
        var mode = run.Options.Mode;
        if (mode == LoadMode.Hold || run.Workers.Count < 2)
        {
            return null;
        }

        // Each worker is one connection (pingpong, stream), one user (chat), one socket (udp) or one of the
        // concurrent connect loops (churn); its counters are its own and only count in the measured phase.
        var (counts, unit) = mode switch
        {
            LoadMode.Stream => (run.Workers.Select(w => w.Bytes), "bytes echoed"),
            LoadMode.Chat => (run.Workers.Select(w => w.Ops), "deliveries received"),
            LoadMode.Udp => (run.Workers.Select(w => w.Ops), "datagrams echoed"),
            LoadMode.Churn => (run.Workers.Select(w => w.Ops), "connections completed"),
            _ => (run.Workers.Select(w => w.Ops), "messages echoed"),
        };
        return Compute([.. counts], unit);
    }

    /// <summary>Most over least of <paramref name="counts"/> (at least two); <see cref="Unbounded"/> when the least is 0.</summary>
    public static Fairness Compute(IReadOnlyList<long> counts, string unit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(counts.Count, 2);
        var (most, least) = (counts.Max(), counts.Min());
        return new Fairness(least == 0 ? Unbounded : Math.Round(most / (double)least, 3), most, least, unit);
    }

    /// <summary>The summary's line: "1.23 (most-served connection 1,234 messages echoed, least-served 1,003)".</summary>
    public string Describe() => IsUnbounded
        ? string.Create(CultureInfo.InvariantCulture, $"∞ (most-served connection {Most:N0} {Unit}, least-served none)")
        : string.Create(CultureInfo.InvariantCulture, $"{Ratio:N2} (most-served connection {Most:N0} {Unit}, least-served {Least:N0})");
}
