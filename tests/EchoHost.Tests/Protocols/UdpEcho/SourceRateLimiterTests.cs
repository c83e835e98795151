using System.Net;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.UdpEcho;

public sealed class SourceRateLimiterTests
{
    private readonly ManualTime _time = new();

    private static SourceIp Ip(string text)
    {
        SourceIp.TryRead(new IPEndPoint(IPAddress.Parse(text), 1234).Serialize(), out var ip, out _);
        return ip;
    }

    private int Allowed(SourceRateLimiter limiter, SourceIp source, int attempts) =>
        Enumerable.Range(0, attempts).Count(_ => limiter.TryAcquire(source));

    [Fact]
    public void A_new_source_gets_a_burst_of_twice_the_rate_then_the_rate()
    {
        var limiter = new SourceRateLimiter(10, _time);
        var source = Ip("192.0.2.1");

        Assert.Equal(20, Allowed(limiter, source, 100));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, Allowed(limiter, source, 100));

        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, Allowed(limiter, source, 100));
    }

    [Fact]
    public void A_quiet_source_refills_only_up_to_the_burst()
    {
        var limiter = new SourceRateLimiter(10, _time);
        var source = Ip("192.0.2.1");
        Allowed(limiter, source, 100);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(20, Allowed(limiter, source, 100));
    }

    [Fact]
    public void Each_source_ip_has_its_own_bucket()
    {
        var limiter = new SourceRateLimiter(5, _time);

        Assert.Equal(10, Allowed(limiter, Ip("192.0.2.1"), 50));
        Assert.Equal(10, Allowed(limiter, Ip("192.0.2.2"), 50));
        Assert.Equal(10, Allowed(limiter, Ip("2001:db8::1"), 50));
        Assert.Equal(0, Allowed(limiter, Ip("192.0.2.1"), 50));
    }

    [Fact]
    public void The_table_stays_bounded_and_keeps_limiting_busy_sources_among_many_new_ones()
    {
        var limiter = new SourceRateLimiter(5, _time, capacity: 64);
        var flooder = Ip("192.0.2.1");
        Assert.Equal(10, Allowed(limiter, flooder, 50));

        // Far more sources than the table holds, each seen once, while the flooder keeps sending.
        var forgedAnswered = 0;
        for (var i = 0; i < 10_000; i++)
        {
            forgedAnswered += limiter.TryAcquire(Forged(i)) ? 1 : 0;
            if (i % 2 == 0)
            {
                limiter.TryAcquire(flooder);
            }
        }

        Assert.Equal(64, limiter.Capacity);
        // New sources draw their first tokens from their set's shared allowance, so churn is limited too.
        Assert.InRange(forgedAnswered, 1, 64 * 10);
        // Seen more recently than most sources in its set, the flooder's empty bucket survives.
        Assert.Equal(0, Allowed(limiter, flooder, 50));
    }

    [Fact]
    public void A_source_pushed_out_of_the_table_by_forged_sources_does_not_come_back_richer()
    {
        // Found by review: an evicted source came back with a full burst, so forging sources between a victim's bursts
        // nearly doubled what the victim was answered.
        const int perSecond = 50, seconds = 10;
        var limiter = new SourceRateLimiter(perSecond, _time, capacity: 64);
        var victim = Ip("192.0.2.7");
        var answered = 0;
        for (var second = 0; second < seconds; second++)
        {
            answered += Allowed(limiter, victim, 1000);
            for (var i = 0; i < 10_000; i++)
            {
                limiter.TryAcquire(Forged(second * 10_000 + i));
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Never more than a source that kept its bucket: one burst, then the rate.
        Assert.InRange(answered, 1, (2 * perSecond) + ((seconds - 1) * perSecond));
    }

    private static SourceIp Forged(int i) => Ip($"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}");
}
