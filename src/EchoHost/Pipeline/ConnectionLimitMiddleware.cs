using System.Net;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Admits a connection while the listener is under <c>MaxConnections</c> and its client IP under
/// <c>MaxConnectionsPerIp</c>; otherwise logs and counts the refusal and returns, which makes Kestrel close the
/// socket at once. The slot is released once the connection has ended.
/// </summary>
internal sealed partial class ConnectionLimitMiddleware(
    ConnectionDelegate next,
    ListenerDefinition listener,
    ListenerMetrics metrics,
    ILogger logger)
{
    private readonly ConnectionLimiter _limiter = new(listener.MaxConnections, listener.MaxConnectionsPerIp);
    private Func<object, Task>? _release;

    public Task InvokeAsync(ConnectionContext connection)
    {
        var remote = connection.Features.GetRequiredFeature<ConnectionSession>().RemoteEndPoint;
        var refusal = _limiter.TryAcquire(remote?.Address);
        if (refusal != LimitRefusal.None)
        {
            metrics.ConnectionRefused(refusal.TagValue());
            if (refusal == LimitRefusal.PerIp)
            {
                LogRefusedPerIp(listener.Name, remote, listener.MaxConnectionsPerIp);
            }
            else
            {
                LogRefusedMaxConnections(listener.Name, remote, listener.MaxConnections);
            }

            return Task.CompletedTask;
        }

        _release ??= session =>
        {
            _limiter.Release(((ConnectionSession)session).RemoteEndPoint?.Address);
            return Task.CompletedTask;
        };
        return next.ThenOnEnd(connection, _release, connection.Features.GetRequiredFeature<ConnectionSession>());
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: per-IP limit reached (MaxConnectionsPerIp = {Limit})")]
    private partial void LogRefusedPerIp(string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: connection limit reached (MaxConnections = {Limit})")]
    private partial void LogRefusedMaxConnections(string listener, IPEndPoint? remoteEndPoint, int limit);
}
