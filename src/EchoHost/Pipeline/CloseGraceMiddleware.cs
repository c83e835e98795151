using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// The one close path. Whoever wants a connection gone (shutdown, the idle timeout, a protocol such as chat with a
/// slow reader) requests a close with a reason; the handler sees <c>ConnectionClosedRequested</c> and returns. A
/// handler that has not returned within <see cref="ConnectionSession.CloseGrace"/> — a peer that never reads can
/// hold a flush for ever — has its socket aborted, which completes that flush. The abort runs on a timer of its
/// own, not on Kestrel's heartbeat, which stops as soon as the server starts shutting down. Transport errors that
/// only mean the peer went away end the connection quietly.
/// </summary>
internal sealed partial class CloseGraceMiddleware(ConnectionDelegate next, ListenerDefinition listener, TimeProvider time, ILogger logger)
{
    private readonly TimeProvider _time = time;
    private readonly string _listener = listener.Name;

    public async Task InvokeAsync(ConnectionContext connection)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        var state = new GraceState(this, connection, session);
        using var closeRequested = session.ConnectionClosedRequested.Register(static s => ((GraceState)s!).Start(), state);
        try
        {
            await next(connection);
        }
        catch (Exception ex) when (IsDisconnect(ex, session))
        {
            if (ex is ConnectionResetException or IOException)
            {
                session.MarkReset();
            }

            LogTransportError(ex.GetType().Name, ex.Message);
        }
        finally
        {
            state.Finish();
        }
    }

    /// <summary>Errors that only mean the peer went away or the close we requested took effect.</summary>
    private static bool IsDisconnect(Exception ex, ConnectionSession session) => ex switch
    {
        ConnectionResetException or ConnectionAbortedException or IOException => true,
        OperationCanceledException => session.CloseRequestReason is not null,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Listener} connection {ConnectionId} did not finish within {Grace} of a close request; aborting")]
    private partial void LogAborting(string listener, string connectionId, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Debug, Message = "transport ended with {ErrorType}: {ErrorMessage}")]
    private partial void LogTransportError(string errorType, string errorMessage);

    /// <summary>The grace timer of one connection: started by the first close request, stopped when the handler returns.</summary>
    private sealed class GraceState(CloseGraceMiddleware owner, ConnectionContext connection, ConnectionSession session)
    {
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private bool _finished;

        public void Start()
        {
            lock (_lock)
            {
                if (!_finished)
                {
                    _timer = owner._time.CreateTimer(static s => ((GraceState)s!).Abort(), this, ConnectionSession.CloseGrace, Timeout.InfiniteTimeSpan);
                }
            }
        }

        public void Finish()
        {
            lock (_lock)
            {
                _finished = true;
                _timer?.Dispose();
            }
        }

        private void Abort()
        {
            lock (_lock)
            {
                if (_finished)
                {
                    return;
                }
            }

            owner.LogAborting(owner._listener, session.ConnectionId, ConnectionSession.CloseGrace);
            connection.Abort(new ConnectionAbortedException($"The connection did not close within {ConnectionSession.CloseGrace} of a close request."));
        }
    }
}
