namespace EchoHost.Configuration;

/// <summary><c>EchoHost:Http</c>: the HTTP endpoint for metrics, health and the live connections view.</summary>
public sealed class HttpEndpointOptions
{
    public bool Enabled { get; set; } = true;

    public int Port { get; set; } = 8080;

    /// <summary>Overrides <see cref="EchoHostOptions.Address"/> for the HTTP endpoint.</summary>
    public string? Address { get; set; }

    /// <summary>
    /// Serve <c>GET /connections</c>. Off unless enabled: it reveals client addresses, nicks and rooms to anyone who
    /// reaches the HTTP port, and every shipped deployment exposes that port beyond the machine.
    /// </summary>
    public bool ConnectionsEndpoint { get; set; }
}
