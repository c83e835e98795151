using System.Text.Json.Serialization;
using EchoHost.Configuration;

namespace EchoHost.Pipeline;

internal static class ConnectionsEndpoint
{
    /// <summary>
    /// <c>GET /connections</c>: every open connection with its counters, like netstat for EchoHost. It shows client
    /// addresses, so <c>EchoHost:Http:ConnectionsEndpoint = false</c> turns it into a 404.
    /// </summary>
    public static void MapConnections(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/connections", (ConnectionRegistry registry, ListenerSet listeners) =>
            listeners.Http.ConnectionsEndpoint
                ? Results.Json(registry.Snapshot().Select(ConnectionView.Of))
                : Results.NotFound());

    internal sealed record ConnectionView(
        string Id,
        string Listener,
        string Protocol,
        string? RemoteEndPoint,
        DateTimeOffset ConnectedAt,
        long BytesIn,
        long BytesOut)
    {
        /// <summary>What the protocol set (chat: <c>nick</c>, <c>room</c>), as fields of their own.</summary>
        [JsonExtensionData]
        public Dictionary<string, object>? Details { get; init; }

        public static ConnectionView Of(ConnectionSession s) => new(
            s.ConnectionId, s.Listener.Name, s.Listener.ProtocolName, s.RemoteEndPoint?.ToString(), s.ConnectedAt, s.BytesIn, s.BytesOut)
        {
            Details = s.Details.Count == 0 ? null : s.Details.ToDictionary(d => d.Key, d => (object)d.Value),
        };
    }
}
