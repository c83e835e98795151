using System.Net;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Raw TCP endpoints get no HTTP timeouts: this asks a connection to close (reason idle timeout) once it has moved
/// no byte in either direction for the listener's <c>IdleTimeout</c>. Checked on Kestrel's heartbeat, about once a
/// second, so it costs no timer per connection.
/// </summary>
internal sealed partial class IdleTimeoutMiddleware(ConnectionDelegate next, ListenerDefinition listener, ListenerMetrics metrics, ILogger logger)
{
    private readonly long _idleTimeoutMs = (long)listener.IdleTimeout.TotalMilliseconds;
    private Action<object>? _check;

    public Task InvokeAsync(ConnectionContext connection)
    {
        if (_idleTimeoutMs > 0)
        {
            // One delegate per listener, the session as its state: no per-connection tuple.
            _check ??= session => Check((ConnectionSession)session, Environment.TickCount64);
            connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(_check, connection.Features.GetRequiredFeature<ConnectionSession>());
        }

        return next(connection);
    }

    /// <summary>Requests the close when the session has been idle for the timeout; true when this call did.</summary>
    internal bool Check(ConnectionSession session, long nowMs)
    {
        if (_idleTimeoutMs <= 0 || session.CloseRequestReason is not null || nowMs - session.LastActivityMs < _idleTimeoutMs
            || !session.RequestClose(CloseReason.IdleTimeout))
        {
            return false;
        }

        metrics.IdleTimeout();
        LogIdleTimeout(listener.Name, session.ConnectionId, session.RemoteEndPoint, listener.IdleTimeout);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint} idle for {IdleTimeout}; closing (idle timeout)")]
    private partial void LogIdleTimeout(string listener, string connectionId, IPEndPoint? remoteEndPoint, TimeSpan idleTimeout);
}
