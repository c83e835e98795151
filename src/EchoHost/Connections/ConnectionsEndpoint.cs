using System.Text.Json.Serialization;
using EchoHost.Configuration;
using Microsoft.Extensions.Options;

namespace EchoHost.Connections;

internal static class ConnectionsEndpoint
{
    /// <summary>
    /// <c>GET /connections</c>: every open connection with its counters, like netstat for EchoHost. It shows client
    /// addresses, so <c>EchoHost:Http:ConnectionsEndpoint = false</c> turns it into a 404.
    /// </summary>
    public static void MapConnections(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/connections", (ConnectionRegistry registry, IOptions<EchoHostOptions> options) =>
            options.Value.Http.ConnectionsEndpoint
                ? Results.Json(registry.Snapshot().Select(ConnectionView.Of))
                : Results.NotFound());

    internal sealed record ConnectionView(
        string Id,
        string Listener,
        string Protocol,
        string? RemoteEndPoint,
        DateTimeOffset ConnectedAt,
        long BytesIn,
        long BytesOut,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Nick,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Room)
    {
        public static ConnectionView Of(ConnectionSession s) => new(
            s.ConnectionId, s.Listener.Name, s.Listener.ProtocolName, s.RemoteEndPoint?.ToString(), s.ConnectedAt, s.BytesIn, s.BytesOut, s.Nick, s.Room);
    }
}
