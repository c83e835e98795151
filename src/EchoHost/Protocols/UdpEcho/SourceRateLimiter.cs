using System.Numerics;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// A token bucket per source IP: <c>perSecond</c> datagrams a second, bursts up to twice that. The buckets live in a
/// fixed table (set-associative, four buckets a set, least recently seen replaced), so memory stays bounded however
/// many sources there are and the hot path never allocates. A replaced bucket belonged to the quietest source of
/// its set. A source that gets a new bucket — new, or pushed out by others — does not start full: it draws its tokens
/// from its set's newcomer allowance, which refills at the per-source rate. So forging sources to push a victim out
/// never gives the victim more than it would have had, and a flood of forged sources is itself limited per set.
/// </summary>
internal sealed class SourceRateLimiter
{
    public const int DefaultCapacity = 16_384;
    private const int Ways = 4;

    private readonly Bucket[] _buckets;
    private readonly Allowance[] _newcomers;
    private readonly int _setMask;
    private readonly double _tokensPerTick;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _uses;

    public SourceRateLimiter(int perSecond, TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        var sets = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, capacity / Ways));
        _buckets = new Bucket[sets * Ways];
        _newcomers = new Allowance[sets];
        _setMask = sets - 1;
        _time = time;
        _tokensPerTick = (double)perSecond / time.TimestampFrequency;
        _burst = 2.0 * perSecond;
        var now = time.GetTimestamp();
        // Room for a whole set of new sources at once: a few legitimate newcomers in one set each get their burst.
        Array.Fill(_newcomers, new Allowance { Tokens = Ways * _burst, LastRefill = now });
    }

    /// <summary>How many sources the table can track at once.</summary>
    public int Capacity => _buckets.Length;

    /// <summary>Takes one token from <paramref name="source"/>'s bucket; false when it is empty.</summary>
    public bool TryAcquire(SourceIp source)
    {
        var now = _time.GetTimestamp();
        var set = source.GetHashCode() & _setMask;
        var first = set * Ways;
        lock (_lock)
        {
            var use = ++_uses;
            var victim = first;
            for (var i = first; i < first + Ways; i++)
            {
                ref var bucket = ref _buckets[i];
                if (bucket.LastUse != 0 && bucket.Source == source)
                {
                    bucket.Tokens = Math.Min(_burst, bucket.Tokens + ((now - bucket.LastRefill) * _tokensPerTick));
                    bucket.LastRefill = now;
                    bucket.LastUse = use;
                    if (bucket.Tokens < 1)
                    {
                        return false;
                    }

                    bucket.Tokens -= 1;
                    return true;
                }

                // An unused bucket (LastUse 0) is always the least recently used.
                if (bucket.LastUse < _buckets[victim].LastUse)
                {
                    victim = i;
                }
            }

            ref var newcomers = ref _newcomers[set];
            newcomers.Tokens = Math.Min(Ways * _burst, newcomers.Tokens + ((now - newcomers.LastRefill) * _tokensPerTick));
            newcomers.LastRefill = now;
            var granted = Math.Min(_burst, newcomers.Tokens);
            newcomers.Tokens -= granted;
            var allowed = granted >= 1;
            _buckets[victim] = new Bucket { Source = source, LastRefill = now, LastUse = use, Tokens = allowed ? granted - 1 : granted };
            return allowed;
        }
    }

    private struct Bucket
    {
        public SourceIp Source;
        public long LastRefill;
        /// <summary>When the source was last seen, counted in calls rather than time, so ties cannot happen; 0 when unused.</summary>
        public long LastUse;
        public double Tokens;
    }

    /// <summary>What a set can still give sources that get a new bucket.</summary>
    private struct Allowance
    {
        public double Tokens;
        public long LastRefill;
    }
}
