using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// First on every connection: creates its <see cref="ConnectionSession"/>, which the other middlewares and the handler
/// share as a feature, opens the logging scope, and turns Kestrel's shutdown notice into a close request.
/// </summary>
internal sealed class ConnectionSessionMiddleware(ConnectionDelegate next, ListenerDefinition listener, ILogger logger)
{
    public async Task InvokeAsync(ConnectionContext connection)
    {
        var remote = Normalize(connection.RemoteEndPoint as IPEndPoint);
        var session = new ConnectionSession(connection.ConnectionId, listener, remote);
        using var scope = logger.BeginScope(new ConnectionLogScope(connection.ConnectionId, listener.Name, remote));
        using var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.Register(
            static state => ((ConnectionSession)state!).RequestClose(CloseReason.Shutdown), session) ?? default;
        connection.Features.Set(session);
        connection.Features.Set<IConnectionLifetimeNotificationFeature>(session);
        connection.Features.Set<IConnectionCloseFeature>(session);
        connection.Features.Set<IConnectionDetailsFeature>(session);
        await next(connection);
    }

    /// <summary>Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; count them as the IPv4 address they are.</summary>
    private static IPEndPoint? Normalize(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
