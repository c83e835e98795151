using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// The one close path. Whoever wants a connection gone (shutdown, the idle timeout, a protocol such as chat with a
/// slow reader) requests a close with a reason; the handler sees <c>ConnectionClosedRequested</c> and returns. A
/// handler that has not returned within <see cref="ConnectionSession.CloseGrace"/> — a peer that never reads can
/// hold a flush for ever — has its socket aborted, which completes that flush; that abort runs on a timer of its own,
/// since Kestrel's heartbeat stops as soon as the server starts shutting down. And once the handler has returned,
/// the transport gets the same grace to deliver what is still queued: a connection Kestrel still holds after it (a
/// client that stopped reading) is aborted, so none outlives its limits slot, its <c>/connections</c> entry and its
/// metrics by more than the grace, nor holds up shutdown. That check rides Kestrel's heartbeat, which ticks for a
/// connection until Kestrel has let it go, so it costs no timer and keeps nothing alive — except during shutdown,
/// when a timer does it. Transport errors that only mean the peer went away end the connection quietly. On a TLS
/// listener, a handler that returned gets its session ended with close_notify here, inside that same grace.
/// </summary>
internal sealed partial class CloseGraceMiddleware(ConnectionDelegate next, ListenerDefinition listener, TimeProvider time, ILogger logger)
{
    private readonly TimeProvider _time = time;
    private readonly string _listener = listener.Name;

    public async Task InvokeAsync(ConnectionContext connection)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        var onSocketThreads = SocketThreadConnection.Of(connection);
        var state = new GraceState(this, connection, session);
        connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static s => ((GraceState)s).OnHeartbeat(), state);
        session.WatchCloseRequest(state);
        try
        {
            await next(connection);
        }
        catch (Exception ex) when (IsDisconnect(ex, session))
        {
            if (SocketThreadConnection.MustLeave(onSocketThreads))
            {
                await Task.Yield();
            }

            if (IsTlsFailure(ex, connection))
            {
                session.MarkTlsError();
            }
            else if (ex is ConnectionResetException or IOException)
            {
                session.MarkReset();
            }

            LogTransportError(ex.GetType().Name, ex.Message);
            return;
        }
        finally
        {
            state.OnHandlerReturned(connection.Features.Get<IConnectionSocketFeature>()?.Socket);
        }

        // A handler that ended on the socket engine's thread (the client's FIN arrives there) leaves it here: what
        // follows in the pipeline (the access log, metrics, limits) is not EchoHost's connection path.
        if (SocketThreadConnection.MustLeave(onSocketThreads))
        {
            await Task.Yield();
        }

        if (connection.Features.Get<ISslStreamFeature>() is { } tls)
        {
            await EndTlsAsync(connection.Transport.Output, tls.SslStream);
        }
    }

    /// <summary>
    /// Ends a TLS session as TLS asks, within the grace that started when the handler returned: the rest of what the
    /// handler wrote, then close_notify, before Kestrel closes the socket. Kestrel's TLS middleware only disposes its
    /// SslStream, which sends no alert, so without this a client cannot tell the end from a cut connection: OpenSSL 3
    /// reports "unexpected eof while reading" and ncat exits 1 ("Input/output error") after printing every byte.
    /// </summary>
    /// <remarks>
    /// Not skipped when Kestrel's <c>ConnectionClosed</c> has fired: Kestrel signals it as soon as the client's FIN
    /// arrives, and a client such as ncat ends its sending side with a plain FIN (no close_notify) and waits for the
    /// rest. A client that stopped reading holds this up no longer than the grace, whose check then aborts the
    /// connection and so ends the write. A handler that ended on a transport error gets no alert: no one is left.
    /// </remarks>
    private static async Task EndTlsAsync(PipeWriter output, SslStream tls)
    {
        try
        {
            await output.CompleteAsync();
            await tls.ShutdownAsync();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException
            or OperationCanceledException or ConnectionResetException or ConnectionAbortedException)
        {
            // The peer went away, or the connection was aborted meanwhile.
        }
    }

    /// <summary>
    /// On a TLS connection, an <see cref="IOException"/> of the TLS layer itself — such as the one for a renegotiation the
    /// server refuses — rather than of the transport under it, which is a <see cref="ConnectionResetException"/> or
    /// carries a <see cref="SocketException"/>: the client broke the session, it did not reset the connection.
    /// </summary>
    private static bool IsTlsFailure(Exception ex, ConnectionContext connection)
    {
        if (ex is not IOException || ex is ConnectionResetException || connection.Features.Get<ISslStreamFeature>() is null)
        {
            return false;
        }

        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException or ConnectionResetException)
            {
                return false;
            }
        }

        return true;
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

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint}: the client took no more of what was sent within {Grace} of the end; aborting")]
    private partial void LogAbortingUndelivered(string listener, string connectionId, System.Net.IPEndPoint? remoteEndPoint, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Debug, Message = "transport ended with {ErrorType}: {ErrorMessage}")]
    private partial void LogTransportError(string errorType, string errorMessage);

    /// <summary>One connection's grace: from a close request until the handler returns, then until Kestrel lets it go.</summary>
    private sealed class GraceState(CloseGraceMiddleware owner, ConnectionContext connection, ConnectionSession session) : ICloseRequestWatcher
    {
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private long _returnedAtMs;
        private bool _aborted;
        private Socket? _socket;

        public void OnCloseRequested()
        {
            lock (_lock)
            {
                if (_returnedAtMs == 0 && _timer is null)
                {
                    _timer = owner._time.CreateTimer(static s => ((GraceState)s!).AbortStuckHandler(), this, ConnectionSession.CloseGrace, Timeout.InfiniteTimeSpan);
                }
            }
        }

        public void OnHandlerReturned(Socket? socket)
        {
            lock (_lock)
            {
                _returnedAtMs = Environment.TickCount64;
                _timer?.Dispose();
                _timer = null;
                // Kestrel's heartbeat has stopped once shutdown began: then a timer watches the socket instead.
                if (socket is not null && session.CloseRequestReason == CloseReason.Shutdown)
                {
                    _socket = socket;
                    _timer = owner._time.CreateTimer(static s => ((GraceState)s!).AbortUndeliveredAtShutdown(), this, ConnectionSession.CloseGrace, Timeout.InfiniteTimeSpan);
                }
            }
        }

        /// <summary>About once a second, for as long as Kestrel holds the connection.</summary>
        public void OnHeartbeat()
        {
            var returnedAt = Volatile.Read(ref _returnedAtMs);
            if (returnedAt != 0 && Environment.TickCount64 - returnedAt >= (long)ConnectionSession.CloseGrace.TotalMilliseconds)
            {
                AbortUndelivered();
            }
        }

        private void AbortStuckHandler()
        {
            lock (_lock)
            {
                if (_returnedAtMs != 0 || _aborted)
                {
                    return;
                }

                _aborted = true;
            }

            owner.LogAborting(owner._listener, session.ConnectionId, ConnectionSession.CloseGrace);
            connection.Abort(new ConnectionAbortedException($"The connection did not close within {ConnectionSession.CloseGrace} of a close request."));
        }

        private void AbortUndeliveredAtShutdown()
        {
            if (_socket is { SafeHandle.IsClosed: false })
            {
                AbortUndelivered();
            }
        }

        private void AbortUndelivered()
        {
            lock (_lock)
            {
                if (_aborted)
                {
                    return;
                }

                _aborted = true;
                _timer?.Dispose();
                _timer = null;
            }

            owner.LogAbortingUndelivered(owner._listener, session.ConnectionId, session.RemoteEndPoint, ConnectionSession.CloseGrace);
            connection.Abort(new ConnectionAbortedException($"The client took no more of what was sent within {ConnectionSession.CloseGrace} of the end."));
        }
    }
}
