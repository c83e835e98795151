using System.Net;
using EchoHost.Configuration;
using EchoHost.Connections;

using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Unit;

/// <summary>The heartbeat logic is driven with explicit clock values, so no test sleeps.</summary>
public sealed class ConnectionSessionTests
{
    private static ConnectionSession Session(TimeSpan idleTimeout) =>
        new("c1", TestListeners.Echo(idleTimeout), new IPEndPoint(IPAddress.Loopback, 5));

    [Fact]
    public void Idle_connection_is_asked_to_close_once_the_timeout_passes()
    {
        var session = Session(TimeSpan.FromSeconds(10));
        var start = Environment.TickCount64;

        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(start + 5_000));
        Assert.False(session.ConnectionClosedRequested.IsCancellationRequested);

        Assert.Equal(HeartbeatAction.IdleTimedOut, session.OnHeartbeat(start + 10_500));
        Assert.True(session.ConnectionClosedRequested.IsCancellationRequested);
        Assert.Equal(CloseReason.IdleTimeout, session.CloseRequestReason);
    }

    [Fact]
    public void Traffic_in_either_direction_restarts_the_idle_clock()
    {
        var session = Session(TimeSpan.FromSeconds(10));

        session.AddBytesIn(1);
        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(Environment.TickCount64 + 9_000));
        session.AddBytesOut(1);
        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(Environment.TickCount64 + 9_000));
        Assert.Equal(2, session.BytesIn + session.BytesOut);
    }

    [Fact]
    public void Zero_idle_timeout_never_times_out()
    {
        var session = Session(TimeSpan.Zero);

        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(Environment.TickCount64 + 86_400_000));
        Assert.Null(session.CloseRequestReason);
    }

    [Fact]
    public void A_close_request_not_honoured_within_the_grace_period_aborts_once()
    {
        var session = Session(TimeSpan.Zero);
        var start = Environment.TickCount64;
        Assert.True(session.RequestClose(CloseReason.Shutdown));

        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(start + 500));
        Assert.Equal(HeartbeatAction.Abort, session.OnHeartbeat(start + (long)ConnectionSession.CloseGrace.TotalMilliseconds + 1_000));
        Assert.Equal(HeartbeatAction.None, session.OnHeartbeat(start + 60_000));
    }

    [Fact]
    public void The_first_close_reason_wins()
    {
        var session = Session(TimeSpan.Zero);

        Assert.True(session.RequestClose(CloseReason.IdleTimeout));
        Assert.False(session.RequestClose(CloseReason.Shutdown));
        Assert.Equal(CloseReason.IdleTimeout, session.CloseRequestReason);
    }
}
