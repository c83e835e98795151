namespace EchoHost.Configuration;

/// <summary>
/// One entry of <c>EchoHost:Listeners</c>. Limits are null when not set, so the validator can tell a key that was
/// written from a default, and a listener gets its protocol's defaults (see <see cref="ListenerDefinition"/>).
/// </summary>
public sealed class ListenerOptions
{
    public const int DefaultMaxConnections = 10_000;
    public const int DefaultMaxConnectionsPerIp = 1_000;

    /// <summary>The largest IPv4 UDP payload: 65,535 minus the IPv4 and UDP headers.</summary>
    public const int MaxUdpPayload = 65_507;
    public const int DefaultPerSourceDatagramsPerSecond = 10_000;

    public static readonly TimeSpan DefaultProxyProtocolTimeout = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultTlsHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Source ports never answered: 0 (invalid) and the classic small services that answer anything — echo, discard,
    /// daytime, qotd, chargen, time — so no spoofed datagram can start an echo–chargen loop (CVE-1999-0103).
    /// </summary>
    public static IReadOnlyList<int> DefaultDenySourcePorts { get; } = [0, 7, 9, 13, 17, 19, 37];

    /// <summary>Keys that apply to TCP listeners only: the shape check leaves them out of a UDP listener's known keys, the validator rejects them there.</summary>
    internal static IReadOnlyList<string> TcpOnlyKeys { get; } =
        [nameof(IdleTimeout), nameof(MaxConnections), nameof(MaxConnectionsPerIp), nameof(Banner), nameof(Tls), nameof(ProxyProtocol),
         nameof(TrustedProxies), nameof(ProxyProtocolTimeout)];

    /// <summary>Keys that apply to UDP listeners only.</summary>
    internal static IReadOnlyList<string> UdpOnlyKeys { get; } = [nameof(MaxDatagramBytes), nameof(DenySourcePorts), nameof(PerSourceDatagramsPerSecond)];

    /// <summary>The keys of the other transport, which a listener of <paramref name="transport"/> must not set.</summary>
    internal static IReadOnlyList<string> KeysNotFor(ListenerTransport transport) => transport == ListenerTransport.Udp ? TcpOnlyKeys : UdpOnlyKeys;

    /// <summary>
    /// Where a protocol's own keys (<see cref="ProtocolRegistration.ListenerOptions"/>) come in the keys offered for a
    /// listener: after what greets a connection, before TLS and PROXY.
    /// </summary>
    internal const string ProtocolKeysAfter = nameof(Banner);

    /// <summary>
    /// The listener's own keys bound to its protocol's <see cref="ProtocolRegistration.ListenerOptions"/> by
    /// <see cref="ConfigurationShape"/>; null when its protocol has none or is unknown.
    /// </summary>
    internal object? Own { get; set; }

    /// <summary>The keys this listener's section sets (with a value), as the shape check saw them: lets the validator refuse another protocol's own keys, which bind to nothing here.</summary>
    internal IReadOnlyList<string> Written { get; set; } = [];

    /// <summary>The name of a registered protocol (see <see cref="ProtocolRegistry"/>), in any case.</summary>
    public string? Protocol { get; set; }

    public int? Port { get; set; }

    /// <summary>Overrides <see cref="EchoHostOptions.Address"/> for this listener.</summary>
    public string? Address { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>TCP: closes a connection that moved no byte for this long; <c>0</c> turns it off; unset means the protocol's default.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>TCP: open connections allowed on this listener; <c>0</c> means no limit; unset means <see cref="DefaultMaxConnections"/>.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>TCP: open connections allowed from one client IP on this listener; <c>0</c> means no limit.</summary>
    public int? MaxConnectionsPerIp { get; set; }

    /// <summary>
    /// TCP: a line sent on connect. Placeholders: <c>{host}</c>, <c>{listener}</c>, <c>{local}</c>, <c>{remote}</c>,
    /// <c>{pod}</c>, <c>{namespace}</c>, <c>{node}</c> (see <see cref="BannerPlaceholders"/>). Unset means no banner.
    /// </summary>
    public string? Banner { get; set; }

    /// <summary>TCP: serve TLS with this certificate; unset means plain TCP.</summary>
    public TlsOptions? Tls { get; set; }

    /// <summary>TCP: expect a PROXY protocol header from a trusted proxy before the client's bytes; unset means <c>Off</c>.</summary>
    public ProxyProtocolMode? ProxyProtocol { get; set; }

    /// <summary>
    /// TCP: the CIDRs or addresses allowed to send the PROXY header; required when <c>ProxyProtocol</c> is on. On Web
    /// listeners, also the proxies whose <c>X-Forwarded-For</c> (or <c>Forwarded</c>) the HTTP echo believes.
    /// </summary>
    public string[]? TrustedProxies { get; set; }

    /// <summary>TCP: a PROXY header not complete within this long closes the connection; unset means <see cref="DefaultProxyProtocolTimeout"/>.</summary>
    public TimeSpan? ProxyProtocolTimeout { get; set; }

    /// <summary>UDP: a bigger datagram is dropped, never truncated and echoed; unset means <see cref="MaxUdpPayload"/>.</summary>
    public int? MaxDatagramBytes { get; set; }

    /// <summary>
    /// UDP: datagrams from these source ports are dropped; unset means <see cref="DefaultDenySourcePorts"/>, an empty
    /// list denies none. An array, not a list: the binder appends to a list that already has items.
    /// </summary>
    public int[]? DenySourcePorts { get; set; }

    /// <summary>UDP: datagrams answered per second for one source IP, with bursts of twice that; <c>0</c> means no limit.</summary>
    public int? PerSourceDatagramsPerSecond { get; set; }
}
