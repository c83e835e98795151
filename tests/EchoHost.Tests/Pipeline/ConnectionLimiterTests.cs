using System.Net;
using EchoHost.Pipeline;

namespace EchoHost.Tests.Pipeline;

public sealed class ConnectionLimiterTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void Per_ip_limit_refuses_only_that_ip()
    {
        var limiter = new ConnectionLimiter(maxConnections: 0, maxConnectionsPerIp: 2);

        Assert.Equal(LimitRefusal.None, limiter.TryAcquire(A));
        Assert.Equal(LimitRefusal.None, limiter.TryAcquire(A));
        Assert.Equal(LimitRefusal.PerIp, limiter.TryAcquire(A));
        Assert.Equal(LimitRefusal.None, limiter.TryAcquire(B));
        Assert.Equal(3, limiter.Active);
    }

    [Fact]
    public void Total_limit_refuses_everyone_until_a_connection_ends()
    {
        var limiter = new ConnectionLimiter(maxConnections: 2, maxConnectionsPerIp: 0);
        limiter.TryAcquire(A);
        limiter.TryAcquire(B);

        Assert.Equal(LimitRefusal.MaxConnections, limiter.TryAcquire(IPAddress.Loopback));
        limiter.Release(A);
        Assert.Equal(LimitRefusal.None, limiter.TryAcquire(IPAddress.Loopback));
    }

    [Fact]
    public void Released_slots_are_given_back_per_ip()
    {
        var limiter = new ConnectionLimiter(maxConnections: 0, maxConnectionsPerIp: 1);
        limiter.TryAcquire(A);
        limiter.Release(A);

        Assert.Equal(LimitRefusal.None, limiter.TryAcquire(A));
        Assert.Equal(1, limiter.Active);
    }
}
