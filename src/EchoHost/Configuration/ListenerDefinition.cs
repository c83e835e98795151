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

    public string ConfigPath => $"{EchoHostOptions.SectionName}:Listeners:{Name}";

    public string ProtocolName => Protocol.ToString().ToLowerInvariant();

    public ListenerTransport Transport => ListenerProtocols.Transport(Protocol);

    /// <summary><c>tcp</c> or <c>udp</c>, as endpoints are written in logs.</summary>
    public string TransportName => Transport == ListenerTransport.Udp ? "udp" : "tcp";

    /// <summary>The enabled listeners of validated options, in configuration order.</summary>
    public static IReadOnlyList<ListenerDefinition> FromOptions(EchoHostOptions options)
    {
        BindAddress.TryParse(options.Address, out var defaultAddress);
        var result = new List<ListenerDefinition>();
        foreach (var (name, listener) in options.Listeners)
        {
            if (!listener.Enabled)
            {
                continue;
            }

            ListenerProtocols.TryParse(listener.Protocol, out var protocol);
            var address = defaultAddress;
            if (listener.Address is not null)
            {
                BindAddress.TryParse(listener.Address, out address);
            }

            result.Add(new ListenerDefinition(
                name,
                protocol,
                address,
                listener.Port ?? 0,
                listener.IdleTimeout ?? ListenerProtocols.DefaultIdleTimeout(protocol, options),
                listener.MaxConnections ?? ListenerOptions.DefaultMaxConnections,
                listener.MaxConnectionsPerIp ?? ListenerOptions.DefaultMaxConnectionsPerIp,
                string.IsNullOrEmpty(listener.Banner) ? null : listener.Banner)
            {
                Udp = UdpLimits.FromOptions(listener),
            });
        }

        return result;
    }

    public static BindAddress HttpAddress(EchoHostOptions options)
    {
        BindAddress.TryParse(options.Http.Address ?? options.Address, out var address);
        return address;
    }
}
