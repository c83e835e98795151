using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// First on every connection: creates its <see cref="ConnectionSession"/>, which the other middlewares and the handler
/// share as a feature, opens the logging scope, and turns Kestrel's shutdown notice into a close request.
/// </summary>
/// <remarks>
/// No async frame, which every idle connection would hold for its whole life (136 bytes, see docs/performance.md).
/// The scope is never disposed: it lives in the execution context that flows from here into the rest of the
/// pipeline, and Kestrel calls this from an async method of its own, which restores its context when it returns. The
/// shutdown registration lives as long as Kestrel's per-connection token it is on.
/// </remarks>
internal sealed class ConnectionSessionMiddleware(ConnectionDelegate next, ListenerDefinition listener, ILogger logger)
{
    public Task InvokeAsync(ConnectionContext connection)
    {
        var remote = Normalize(connection.RemoteEndPoint as IPEndPoint);
        var session = new ConnectionSession(connection.ConnectionId, listener, remote);
        logger.BeginScope(new ConnectionLogScope(connection.ConnectionId, listener.Name, remote));
        connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.Register(
            static state => ((ConnectionSession)state!).RequestClose(CloseReason.Shutdown), session);
        connection.Features.Set(session);
        connection.Features.Set<IConnectionLifetimeNotificationFeature>(session);
        connection.Features.Set<IConnectionCloseFeature>(session);
        connection.Features.Set<IConnectionDetailsFeature>(session);
        return next(connection);
    }

    /// <summary>Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; count them as the IPv4 address they are.</summary>
    private static IPEndPoint? Normalize(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
