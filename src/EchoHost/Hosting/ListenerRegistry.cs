using System.Collections.Concurrent;
using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// The listeners this host runs, from validated configuration, and where each one is actually bound once Kestrel
/// has started (port 0 becomes a real port).
/// </summary>
internal sealed class ListenerRegistry(IOptions<EchoHostOptions> options)
{
    private readonly ConcurrentDictionary<string, ListenOptions> _tcp = new(StringComparer.OrdinalIgnoreCase);
    private ListenOptions? _http;

    public EchoHostOptions Options => options.Value;

    public IReadOnlyList<ListenerDefinition> Listeners { get; } = ListenerDefinition.FromOptions(options.Value);

    /// <summary>The listeners Kestrel serves.</summary>
    public IEnumerable<ListenerDefinition> TcpListeners => Listeners.Where(l => l.Transport == ListenerTransport.Tcp);

    internal void AddTcpEndpoint(ListenerDefinition listener, ListenOptions listenOptions) => _tcp[listener.Name] = listenOptions;

    internal void SetHttpEndpoint(ListenOptions listenOptions) => _http = listenOptions;

    /// <summary>The endpoint a TCP listener is bound to; for <c>localhost</c>, the IPv4 loopback one.</summary>
    public IPEndPoint TcpEndPoint(string listenerName) =>
        _tcp.TryGetValue(listenerName, out var listenOptions)
            ? listenOptions.IPEndPoint ?? throw new InvalidOperationException($"Listener '{listenerName}' is not bound to an IP endpoint.")
            : throw new KeyNotFoundException($"No TCP listener named '{listenerName}'.");

    public IPEndPoint? HttpEndPoint => _http?.IPEndPoint;

    /// <summary>How an endpoint reads in logs: <c>localhost:65432</c>, <c>[::]:65432</c> or <c>127.0.0.1:41234</c>.</summary>
    public string Describe(ListenerDefinition listener) => Describe(listener.Address, TcpEndPoint(listener.Name));

    public string DescribeHttp() => HttpEndPoint is { } endPoint ? Describe(ListenerDefinition.HttpAddress(Options), endPoint) : "off";

    private static string Describe(BindAddress address, IPEndPoint bound) =>
        address.Kind == BindAddressKind.Localhost ? $"localhost:{bound.Port}" : bound.ToString();
}
