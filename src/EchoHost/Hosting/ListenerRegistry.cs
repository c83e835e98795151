using System.Collections.Concurrent;
using System.Net;
using EchoHost.Configuration;
using EchoHost.Udp;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// The listeners this host runs, from validated configuration, and where each one is actually bound once started
/// (port 0 becomes a real port): TCP listeners by Kestrel, UDP listeners by <see cref="UdpEchoService"/>.
/// </summary>
internal sealed class ListenerRegistry
{
    private readonly IOptions<EchoHostOptions> _options;
    private readonly ConcurrentDictionary<string, ListenOptions> _tcp = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, IReadOnlyList<IPEndPoint>> _udp = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, UdpListenerStats> _udpStats;
    private ListenOptions? _http;

    public ListenerRegistry(IOptions<EchoHostOptions> options)
    {
        _options = options;
        Listeners = ListenerDefinition.FromOptions(options.Value);
        _udpStats = UdpListeners.ToDictionary(l => l.Name, _ => new UdpListenerStats(), StringComparer.OrdinalIgnoreCase);
    }

    public EchoHostOptions Options => _options.Value;

    public IReadOnlyList<ListenerDefinition> Listeners { get; }

    /// <summary>The listeners Kestrel serves.</summary>
    public IEnumerable<ListenerDefinition> TcpListeners => Listeners.Where(l => l.Transport == ListenerTransport.Tcp);

    /// <summary>The listeners <see cref="UdpEchoService"/> serves.</summary>
    public IEnumerable<ListenerDefinition> UdpListeners => Listeners.Where(l => l.Transport == ListenerTransport.Udp);

    internal void AddTcpEndpoint(ListenerDefinition listener, ListenOptions listenOptions) => _tcp[listener.Name] = listenOptions;

    internal void AddUdpEndpoints(ListenerDefinition listener, IReadOnlyList<IPEndPoint> endPoints) => _udp[listener.Name] = endPoints;

    internal void SetHttpEndpoint(ListenOptions listenOptions) => _http = listenOptions;

    /// <summary>The endpoint a TCP listener is bound to; for <c>localhost</c>, the IPv4 loopback one.</summary>
    public IPEndPoint TcpEndPoint(string listenerName) =>
        _tcp.TryGetValue(listenerName, out var listenOptions)
            ? listenOptions.IPEndPoint ?? throw new InvalidOperationException($"Listener '{listenerName}' is not bound to an IP endpoint.")
            : throw new KeyNotFoundException($"No TCP listener named '{listenerName}'.");

    /// <summary>The endpoint a UDP listener is bound to; for <c>localhost</c>, the IPv4 loopback one if there is one.</summary>
    public IPEndPoint UdpEndPoint(string listenerName) => UdpEndPoints(listenerName)[0];

    /// <summary>Every socket of a UDP listener: two for <c>localhost</c>, one otherwise.</summary>
    public IReadOnlyList<IPEndPoint> UdpEndPoints(string listenerName) =>
        _udp.TryGetValue(listenerName, out var endPoints) ? endPoints : throw new KeyNotFoundException($"No bound UDP listener named '{listenerName}'.");

    /// <summary>A UDP listener's datagram, byte and drop counters.</summary>
    public UdpListenerStats UdpStats(string listenerName) =>
        _udpStats.TryGetValue(listenerName, out var stats) ? stats : throw new KeyNotFoundException($"No UDP listener named '{listenerName}'.");

    public IPEndPoint? HttpEndPoint => _http?.IPEndPoint;

    /// <summary>How an endpoint reads in logs: <c>localhost:65432</c>, <c>[::]:65432</c> or <c>127.0.0.1:41234</c>.</summary>
    public string Describe(ListenerDefinition listener) =>
        Describe(listener.Address, listener.Transport == ListenerTransport.Udp ? UdpEndPoint(listener.Name) : TcpEndPoint(listener.Name));

    public string DescribeHttp() => HttpEndPoint is { } endPoint ? Describe(ListenerDefinition.HttpAddress(Options), endPoint) : "off";

    private static string Describe(BindAddress address, IPEndPoint bound) =>
        address.Kind == BindAddressKind.Localhost ? $"localhost:{bound.Port}" : bound.ToString();
}
