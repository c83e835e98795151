using System.Net;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Admits a connection while the endpoint (a listener or the HTTP endpoint) is under <c>MaxConnections</c> and its
/// client IP under <c>MaxConnectionsPerIp</c>; otherwise logs and counts the refusal and returns, which makes Kestrel
/// close the socket at once. The slot is released once the connection has ended.
/// </summary>
internal sealed partial class ConnectionLimitMiddleware(
    ConnectionDelegate next,
    string endpoint,
    int maxConnections,
    int maxConnectionsPerIp,
    ListenerMetrics metrics,
    ILogger logger)
{
    private readonly ConnectionLimiter _limiter = new(maxConnections, maxConnectionsPerIp);
    private Func<object, Task>? _release;

    public ConnectionLimitMiddleware(ConnectionDelegate next, ListenerDefinition listener, ListenerMetrics metrics, ILogger logger)
        : this(next, listener.Name, listener.MaxConnections, listener.MaxConnectionsPerIp, metrics, logger)
    {
    }

    public Task InvokeAsync(ConnectionContext connection)
    {
        // A listener's session knows the client (after a PROXY header); the HTTP endpoint has no session.
        var remote = connection.Features.Get<ConnectionSession>()?.RemoteEndPoint ?? ClientOf(connection);
        var refusal = _limiter.TryAcquire(remote?.Address);
        if (refusal != LimitRefusal.None)
        {
            metrics.ConnectionRefused(refusal.TagValue());
            if (refusal == LimitRefusal.PerIp)
            {
                LogRefusedPerIp(endpoint, remote, maxConnectionsPerIp);
            }
            else
            {
                LogRefusedMaxConnections(endpoint, remote, maxConnections);
            }

            return Task.CompletedTask;
        }

        _release ??= address =>
        {
            _limiter.Release(address as IPAddress);
            return Task.CompletedTask;
        };
        return next.ThenOnEnd(connection, _release, (object?)remote?.Address ?? NoAddress);
    }

    /// <summary>The state released for a connection with no IP address (a test's context): counted in total only.</summary>
    private static readonly object NoAddress = new();

    /// <summary>Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; count them as the IPv4 address they are.</summary>
    private static IPEndPoint? ClientOf(ConnectionContext connection) => connection.RemoteEndPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped => new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port),
        IPEndPoint endPoint => endPoint,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: per-IP limit reached (MaxConnectionsPerIp = {Limit})")]
    private partial void LogRefusedPerIp(string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: connection limit reached (MaxConnections = {Limit})")]
    private partial void LogRefusedMaxConnections(string listener, IPEndPoint? remoteEndPoint, int limit);
}
