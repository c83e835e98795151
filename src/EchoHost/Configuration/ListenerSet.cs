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
}

/// <summary>
/// Everything the host serves, from validated options with every default applied: the enabled listeners in
/// configuration order and the HTTP endpoint. Computed once per options instance: the validator, the host and
/// the health probe all read this one set.
/// </summary>
internal sealed class ListenerSet
{
    private static readonly ConditionalWeakTable<EchoHostOptions, ListenerSet> Computed = new();

    private ListenerSet(EchoHostOptions options)
    {
        Options = options;
        BindAddress.TryParse(options.Address, out var defaultAddress);
        BindAddress.TryParse(options.Http.Address ?? options.Address, out var httpAddress);
        Http = new HttpEndpointDefinition(options.Http.Enabled, httpAddress, options.Http.Port, options.Http.ConnectionsEndpoint)
        {
            MaxConnections = options.Http.MaxConnections,
            MaxConnectionsPerIp = options.Http.MaxConnectionsPerIp,
            IdleTimeout = options.Http.IdleTimeout,
        };

        var listeners = new List<ListenerDefinition>();
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

            listeners.Add(new ListenerDefinition(
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
                OwnAddress = listener.Address is not null,
                ProxyProtocol = listener.ProxyProtocol ?? ProxyProtocolMode.Off,
                TrustedProxies = TrustedProxies.Parse(listener.TrustedProxies),
                ProxyProtocolTimeout = listener.ProxyProtocolTimeout ?? ListenerOptions.DefaultProxyProtocolTimeout,
                Tls = listener.Tls,
            });
        }

        All = listeners;
    }

    /// <summary>The set of these options; the same instance every time for the same options object.</summary>
    public static ListenerSet Of(EchoHostOptions options) => Computed.GetValue(options, static o => new ListenerSet(o));

    public EchoHostOptions Options { get; }

    /// <summary>The enabled listeners, in configuration order.</summary>
    public IReadOnlyList<ListenerDefinition> All { get; }

    /// <summary>The listeners Kestrel serves.</summary>
    public IEnumerable<ListenerDefinition> Tcp => All.Where(l => l.Transport == ListenerTransport.Tcp);

    /// <summary>The listeners served by sockets of our own.</summary>
    public IEnumerable<ListenerDefinition> Udp => All.Where(l => l.Transport == ListenerTransport.Udp);

    public HttpEndpointDefinition Http { get; }
}
