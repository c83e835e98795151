using System.Runtime.CompilerServices;

namespace EchoHost.Configuration;

/// <summary>The HTTP endpoint (metrics, health, <c>/connections</c>) with its bind address resolved.</summary>
internal sealed record HttpEndpointDefinition(bool Enabled, BindAddress Address, int Port, bool ConnectionsEndpoint)
{
    public const string ConfigPath = $"{EchoHostOptions.SectionName}:Http";

    /// <summary>Its name in logs and the <c>echohost.listener</c> tag of its refusals.</summary>
    public const string Name = "Http";

    public int MaxConnections { get; init; } = HttpEndpointOptions.DefaultMaxConnections;

    public int MaxConnectionsPerIp { get; init; } = HttpEndpointOptions.DefaultMaxConnectionsPerIp;

    public TimeSpan IdleTimeout { get; init; } = HttpEndpointOptions.DefaultIdleTimeout;

    public static HttpEndpointDefinition Of(EchoHostOptions options)
    {
        BindAddress.TryParse(options.Http.Address ?? options.Address, out var address);
        return new HttpEndpointDefinition(options.Http.Enabled, address, options.Http.Port, options.Http.ConnectionsEndpoint)
        {
            MaxConnections = options.Http.MaxConnections,
            MaxConnectionsPerIp = options.Http.MaxConnectionsPerIp,
            IdleTimeout = options.Http.IdleTimeout,
        };
    }
}

/// <summary>
/// Everything the host serves, from validated options with every default applied: the enabled listeners in
/// configuration order and the HTTP endpoint. Computed once per options instance: the validator and the host
/// read this one set.
/// </summary>
internal sealed class ListenerSet
{
    private static readonly ConditionalWeakTable<EchoHostOptions, ListenerSet> Computed = new();

    private ListenerSet(EchoHostOptions options, ProtocolRegistry protocols)
    {
        Options = options;
        BindAddress.TryParse(options.Address, out var defaultAddress);
        Http = HttpEndpointDefinition.Of(options);

        var listeners = new List<ListenerDefinition>();
        foreach (var (name, listener) in options.Listeners)
        {
            // A listener of no known protocol is a validation failure; the set is computed for the rest.
            if (!listener.Enabled || !protocols.TryFind(listener.Protocol, out var protocol))
            {
                continue;
            }

            var address = defaultAddress;
            if (listener.Address is not null)
            {
                BindAddress.TryParse(listener.Address, out address);
            }

            listeners.Add(new ListenerDefinition(
                name,
                protocol,
                address,
                listener.Port ?? 0,
                listener.IdleTimeout ?? protocol.IdleTimeout(options),
                listener.MaxConnections ?? ListenerOptions.DefaultMaxConnections,
                listener.MaxConnectionsPerIp ?? ListenerOptions.DefaultMaxConnectionsPerIp,
                string.IsNullOrEmpty(listener.Banner) ? null : listener.Banner)
            {
                Udp = UdpLimits.FromOptions(listener),
                OwnAddress = listener.Address is not null,
                ProxyProtocol = listener.ProxyProtocol ?? ProxyProtocolMode.Off,
                TrustedProxies = TrustedProxies.Parse(listener.TrustedProxies),
                ProxyProtocolTimeout = listener.ProxyProtocolTimeout ?? ListenerOptions.DefaultProxyProtocolTimeout,
                Tls = listener.Tls,
                OwnOptions = listener.Own ?? protocol.NewListenerOptions(),
            });
        }

        All = listeners;
    }

    /// <summary>The set of these options; the same instance every time for the same options object.</summary>
    public static ListenerSet Of(EchoHostOptions options, ProtocolRegistry protocols) =>
        Computed.GetValue(options, o => new ListenerSet(o, protocols));

    public EchoHostOptions Options { get; }

    /// <summary>The enabled listeners, in configuration order.</summary>
    public IReadOnlyList<ListenerDefinition> All { get; }

    /// <summary>The listeners Kestrel serves.</summary>
    public IEnumerable<ListenerDefinition> Tcp => All.Where(l => l.Transport == ListenerTransport.Tcp);

    /// <summary>The listeners of one protocol: what a protocol that serves its own transport (UDP) runs.</summary>
    public IEnumerable<ListenerDefinition> Of(ProtocolRegistration protocol) => All.Where(l => l.Protocol == protocol);

    /// <summary>The listeners served by sockets of our own.</summary>
    public IEnumerable<ListenerDefinition> Udp => All.Where(l => l.Transport == ListenerTransport.Udp);

    public HttpEndpointDefinition Http { get; }
}
