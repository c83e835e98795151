namespace EchoHost.Configuration;

/// <summary>A validated listener with every default applied: what the host actually runs.</summary>
internal sealed record ListenerDefinition(
    string Name,
    ListenerProtocol Protocol,
    BindAddress Address,
    int Port,
    TimeSpan IdleTimeout,
    int MaxConnections,
    int MaxConnectionsPerIp,
    string? Banner)
{
    /// <summary>UDP listeners only: the datagram safety limits.</summary>
    public UdpLimits Udp { get; init; } = UdpLimits.Default;

    /// <summary>Whether the listener sets its own <c>Address</c> rather than inheriting <c>EchoHost:Address</c>.</summary>
    public bool OwnAddress { get; init; }

    /// <summary>The key a user edits to change this listener's bind address.</summary>
    public string AddressKey => OwnAddress ? $"{ConfigPath}:Address" : $"{EchoHostOptions.SectionName}:Address";

    public string ConfigPath => $"{EchoHostOptions.SectionName}:Listeners:{Name}";

    public string ProtocolName => Protocol.ToString().ToLowerInvariant();

    public ListenerTransport Transport => ListenerProtocols.Transport(Protocol);

    /// <summary><c>tcp</c> or <c>udp</c>, as endpoints are written in logs.</summary>
    public string TransportName => Transport == ListenerTransport.Udp ? "udp" : "tcp";
}
