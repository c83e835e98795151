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
    public string ConfigPath => $"{EchoHostOptions.SectionName}:Listeners:{Name}";

    public string ProtocolName => Protocol.ToString().ToLowerInvariant();

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
                listener.MaxConnections,
                listener.MaxConnectionsPerIp,
                string.IsNullOrEmpty(listener.Banner) ? null : listener.Banner));
        }

        return result;
    }

    public static BindAddress HttpAddress(EchoHostOptions options)
    {
        BindAddress.TryParse(options.Http.Address ?? options.Address, out var address);
        return address;
    }
}
