using System.Text.Json.Serialization;
using EchoHost.Pipeline;

namespace EchoHost.Hosting;

/// <summary>The HTTP endpoint's own paths; <c>/connections</c> only when it is on (it lists client addresses).</summary>
internal sealed record HttpLinks([property: JsonIgnore] bool ConnectionsOn)
{
    public string Metrics => "/metrics";

    public string Healthz => "/healthz";

    public string Readyz => "/readyz";

    public string? Connections => ConnectionsOn ? "/connections" : null;

    /// <summary>How to turn <c>/connections</c> on, while it is off.</summary>
    public string? ConnectionsOff => ConnectionsOn ? null : ConnectionsEndpoint.HowToTurnOn;
}
