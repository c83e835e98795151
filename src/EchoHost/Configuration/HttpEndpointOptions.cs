namespace EchoHost.Configuration;

/// <summary><c>EchoHost:Http</c>: the HTTP endpoint for metrics, health and the live connections view.</summary>
public sealed class HttpEndpointOptions
{
    public const int DefaultMaxConnections = 1_000;
    public const int DefaultMaxConnectionsPerIp = 100;

    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    public bool Enabled { get; set; } = true;

    public int Port { get; set; } = 8080;

    /// <summary>Overrides <see cref="EchoHostOptions.Address"/> for the HTTP endpoint.</summary>
    public string? Address { get; set; }

    /// <summary>
    /// Serve <c>GET /connections</c>. Off unless enabled: it reveals client addresses, nicks and rooms to anyone who
    /// reaches the HTTP port, and every shipped deployment exposes that port beyond the machine.
    /// </summary>
    public bool ConnectionsEndpoint { get; set; }

    /// <summary>Open connections allowed on the HTTP endpoint, as a listener's <c>MaxConnections</c>; <c>0</c> means no limit.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Open connections allowed from one client IP, as a listener's <c>MaxConnectionsPerIp</c>; <c>0</c> means no limit.</summary>
    public int MaxConnectionsPerIp { get; set; } = DefaultMaxConnectionsPerIp;

    /// <summary>
    /// Closes a connection that waits this long for a request (Kestrel's keep-alive timeout, and its request headers
    /// timeout when shorter); <c>0</c> turns it off.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;
}
