using System.Text.Json.Serialization;
using EchoHost.Configuration;

namespace EchoHost.Pipeline;

internal static class ConnectionsEndpoint
{
    /// <summary>The key that turns the endpoint on, as <c>GET /</c> and the 404 name it.</summary>
    public const string Key = "EchoHost:Http:ConnectionsEndpoint";

    /// <summary>What to set to turn it on, for a newcomer who tried it while it was off.</summary>
    public const string HowToTurnOn = $"set {Key}=true to list live connections";

    /// <summary>
    /// <c>GET /connections</c>: every open connection with its counters, like netstat for EchoHost. It shows client
    /// addresses, so it is off unless <c>EchoHost:Http:ConnectionsEndpoint = true</c>: a 404 whose one line names the key.
    /// </summary>
    public static void MapConnections(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/connections", (ConnectionRegistry registry, ListenerSet listeners) =>
            listeners.Http.ConnectionsEndpoint
                ? Results.Json(registry.Snapshot().Select(ConnectionView.Of))
                : Results.Text($"/connections is off; {HowToTurnOn}\n", "text/plain", statusCode: StatusCodes.Status404NotFound));

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
