using System.Net;
using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Pipeline;

/// <summary>The session's close requests, the idle timeout (driven with explicit clock values) and the close grace.</summary>
public sealed class ConnectionSessionTests
{
    private static ConnectionSession Session(TimeSpan idleTimeout) =>
        new("c1", TestListeners.Echo(idleTimeout), new IPEndPoint(IPAddress.Loopback, 5));

    private static IdleTimeoutMiddleware Idle(TimeSpan idleTimeout) =>
        new(_ => Task.CompletedTask, TestListeners.Echo(idleTimeout), TestMetrics.Listener(), NullLogger.Instance);

    [Fact]
    public void Idle_connection_is_asked_to_close_once_the_timeout_passes()
    {
        var session = Session(TimeSpan.FromSeconds(10));
        var idle = Idle(TimeSpan.FromSeconds(10));
        var start = session.LastActivityMs;

        Assert.False(idle.Check(session, start + 5_000));
        Assert.False(session.ConnectionClosedRequested.IsCancellationRequested);

        Assert.True(idle.Check(session, start + 10_500));
        Assert.True(session.ConnectionClosedRequested.IsCancellationRequested);
        Assert.Equal(CloseReason.IdleTimeout, session.CloseRequestReason);
        Assert.False(idle.Check(session, start + 20_000));
    }

    [Fact]
    public void Traffic_in_either_direction_restarts_the_idle_clock()
    {
        var session = Session(TimeSpan.FromSeconds(10));
        var idle = Idle(TimeSpan.FromSeconds(10));

        session.AddBytesIn(1);
        Assert.False(idle.Check(session, Environment.TickCount64 + 9_000));
        session.AddBytesOut(1);
        Assert.False(idle.Check(session, Environment.TickCount64 + 9_000));
        Assert.Equal(2, session.BytesIn + session.BytesOut);
    }

    [Fact]
    public void Zero_idle_timeout_never_times_out()
    {
        var session = Session(TimeSpan.Zero);

        Assert.False(Idle(TimeSpan.Zero).Check(session, Environment.TickCount64 + 86_400_000));
        Assert.Null(session.CloseRequestReason);
    }

    [Fact]
    public void The_first_close_reason_wins_and_is_the_end_reason()
    {
        var session = Session(TimeSpan.Zero);

        Assert.True(session.RequestClose(CloseReason.IdleTimeout));
        Assert.False(session.RequestClose(CloseReason.Shutdown));
        session.MarkInputCompleted();
        Assert.Equal(CloseReason.IdleTimeout, session.CloseRequestReason);
        Assert.Equal(CloseReason.IdleTimeout, session.EndReason);
    }

    [Theory]
    [InlineData(false, false, "closed by server")]
    [InlineData(true, false, "closed by client")]
    [InlineData(true, true, "reset by client")]
    public void Without_a_close_request_the_end_reason_is_what_the_client_did(bool inputCompleted, bool reset, string expected)
    {
        var session = Session(TimeSpan.Zero);
        if (inputCompleted)
        {
            session.MarkInputCompleted();
        }

        if (reset)
        {
            session.MarkReset();
        }

        Assert.Equal(expected, session.EndReason.Describe());
    }

    [Fact]
    public void Details_are_kept_in_order_replaced_in_place_and_removed_by_null()
    {
        var session = Session(TimeSpan.Zero);

        session.SetDetail("nick", "guest-1");
        session.SetDetail("room", "lobby");
        session.SetDetail("nick", "ana");
        Assert.Equal([KeyValuePair.Create("room", "lobby"), KeyValuePair.Create("nick", "ana")], session.Details);
        session.SetDetail("room", null);
        Assert.Equal([KeyValuePair.Create("nick", "ana")], session.Details);
    }

    [Fact]
    public async Task A_handler_that_ignores_a_close_request_is_aborted_after_the_grace()
    {
        var pair = new PipePair();
        var session = Session(TimeSpan.Zero);
        pair.Connection.Features.Set(session);
        var handlerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A handler stuck like one flushing to a peer that never reads: only the abort (ConnectionClosed) ends it.
        var middleware = new CloseGraceMiddleware(async connection =>
        {
            handlerStarted.SetResult();
            await Task.Delay(Timeout.Infinite, connection.ConnectionClosed);
        }, TestListeners.Echo(), TimeProvider.System, NullLogger.Instance);

        var running = middleware.InvokeAsync(pair.Connection);
        await handlerStarted.Task.WaitAsync(TestTimeouts.Default);
        Assert.False(pair.Connection.ConnectionClosed.IsCancellationRequested);
        session.RequestClose(CloseReason.Shutdown);

        // The cancelled delay surfaces as an OperationCanceledException, which a requested close makes quiet.
        await running.WaitAsync(TestTimeouts.Default);
        Assert.True(pair.Connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task A_close_requested_before_the_grace_starts_watching_still_gets_the_grace()
    {
        // Shutdown can arrive while a connection is still in its TLS or PROXY handshake, before the close grace runs.
        var pair = new PipePair();
        var session = Session(TimeSpan.Zero);
        pair.Connection.Features.Set(session);
        session.RequestClose(CloseReason.Shutdown);
        var middleware = new CloseGraceMiddleware(
            connection => Task.Delay(Timeout.Infinite, connection.ConnectionClosed), TestListeners.Echo(), TimeProvider.System, NullLogger.Instance);

        await middleware.InvokeAsync(pair.Connection).WaitAsync(TestTimeouts.Default);

        Assert.True(pair.Connection.ConnectionClosed.IsCancellationRequested);
    }
}
