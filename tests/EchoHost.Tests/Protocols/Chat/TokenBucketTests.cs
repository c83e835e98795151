using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

public sealed class TokenBucketTests
{
    /// <summary>A clock that moves only when the test says so.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void A_burst_passes_then_the_excess_is_refused()
    {
        var bucket = new TokenBucket(burst: 20, perSecond: 5, new ManualTime());

        Assert.Equal(20, Enumerable.Range(0, 20).Count(_ => bucket.TryTake()));
        Assert.False(bucket.TryTake());
    }

    [Fact]
    public void Refills_at_the_configured_rate_up_to_the_burst()
    {
        var time = new ManualTime();
        var bucket = new TokenBucket(burst: 20, perSecond: 5, time);
        while (bucket.TryTake())
        {
        }

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(5, Enumerable.Range(0, 10).Count(_ => bucket.TryTake()));

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(20, Enumerable.Range(0, 30).Count(_ => bucket.TryTake()));
    }
}
