namespace EchoHost.Configuration;

/// <summary>A validated listener with every default applied: what the host actually runs.</summary>
internal sealed record ListenerDefinition(
    string Name,
    ProtocolRegistration Protocol,
    BindAddress Address,
    int Port,
    TimeSpan IdleTimeout,
    int MaxConnections,
    int MaxConnectionsPerIp,
    string? Banner)
{
    /// <summary>UDP listeners only: the datagram safety limits.</summary>
    public UdpLimits Udp { get; init; } = UdpLimits.Default;

    /// <summary>TCP listeners: the PROXY protocol header expected before the client's bytes.</summary>
    public ProxyProtocolMode ProxyProtocol { get; init; } = ProxyProtocolMode.Off;

    /// <summary>Who may send the PROXY header (and, on Web listeners, whose forwarding headers are believed).</summary>
    public TrustedProxies TrustedProxies { get; init; } = TrustedProxies.None;

    public TimeSpan ProxyProtocolTimeout { get; init; } = ListenerOptions.DefaultProxyProtocolTimeout;

    /// <summary>
    /// The listener's own keys, bound to its protocol's <see cref="ProtocolRegistration.ListenerOptions"/>; null when
    /// the protocol has none. Read it with <see cref="Own{T}"/>.
    /// </summary>
    public object? OwnOptions { get; init; }

    /// <summary>TCP listeners: the TLS certificate settings; null for plain TCP.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>Whether the listener sets its own <c>Address</c> rather than inheriting <c>EchoHost:Address</c>.</summary>
    public bool OwnAddress { get; init; }

    /// <summary>The key a user edits to change this listener's bind address.</summary>
    public string AddressKey => OwnAddress ? $"{ConfigPath}:Address" : $"{EchoHostOptions.SectionName}:Address";

    public string ConfigPath => $"{EchoHostOptions.SectionName}:Listeners:{Name}";

    /// <summary>The protocol's name in lower case: the <c>echohost.protocol</c> tag.</summary>
    public string ProtocolName => Protocol.TagValue;

    public ListenerTransport Transport => Protocol.Transport;

    /// <summary>The listener's own keys as its protocol's options class; the class's defaults when none were bound.</summary>
    public T Own<T>()
        where T : class, new() => OwnOptions switch
        {
            null => new T(),
            T own => own,
            var other => throw new InvalidOperationException($"Listener '{Name}' has {other.GetType().Name} options, not {typeof(T).Name}."),
        };

    /// <summary><c>tcp</c> or <c>udp</c>, as endpoints are written in logs.</summary>
    public string TransportName => Transport == ListenerTransport.Udp ? "udp" : "tcp";
}
