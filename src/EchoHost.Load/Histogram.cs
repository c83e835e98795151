using System.Diagnostics;
using System.Numerics;

namespace EchoHost.Load;

/// <summary>
/// An HDR-style latency histogram in nanoseconds: exact below 128 ns, then 64 linear buckets per power of two, so any
/// recorded value is known to within 1/64 (1.6 %) up to hours. Recording is one interlocked add and never allocates;
/// several writers may share one, and a reader may sum it while they write.
/// </summary>
internal sealed class Histogram
{
    private const int SubBuckets = 64;
    // Up to 2^45 ns (about 9.7 hours); longer values count as the longest.
    private const int Buckets = 40 * SubBuckets;

    private readonly long[] _counts = new long[Buckets];
    private long _count;
    private long _max;
    private long _sum;

    public long Count => Volatile.Read(ref _count);

    public long MaxNanoseconds => Volatile.Read(ref _max);

    public static long TicksToNanoseconds(long ticks) =>
        Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));

    public void RecordTicks(long ticks) => Record(TicksToNanoseconds(ticks));

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0)
        {
            nanoseconds = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(nanoseconds)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, nanoseconds);
        var max = Volatile.Read(ref _max);
        while (nanoseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, nanoseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    private static int IndexOf(long value)
    {
        if (value < 2 * SubBuckets)
        {
            return (int)value;
        }

        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - 6;
        return Math.Min(shift * SubBuckets + (int)(value >> shift), Buckets - 1);
    }

    /// <summary>The highest value that falls in bucket <paramref name="index"/>.</summary>
    private static long HighestOf(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        var shift = index / SubBuckets - 1;
        var sub = index - shift * SubBuckets;
        return ((long)(sub + 1) << shift) - 1;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < Buckets; i++)
        {
            if (other._counts[i] != 0)
            {
                Interlocked.Add(ref _counts[i], other._counts[i]);
            }
        }

        Interlocked.Add(ref _count, other._count);
        Interlocked.Add(ref _sum, other._sum);
        if (other._max > _max)
        {
            _max = other._max;
        }
    }

    public double MeanNanoseconds => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    /// <summary>The value at or below which <paramref name="percentile"/> % of the recorded values lie (HDR's "highest equivalent value", capped at the maximum).</summary>
    public long ValueAtPercentile(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * count));
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(HighestOf(i), MaxNanoseconds);
            }
        }

        return MaxNanoseconds;
    }
}
