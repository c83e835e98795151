using System.Reflection;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Configuration;

/// <summary>
/// What one protocol contributes to the host: the name a listener's <c>Protocol</c> uses (any case), its transport,
/// its defaults and its own validation, and, over TCP, its handler. Each protocol folder adds one with its
/// <c>Add…Protocol()</c> call; <see cref="ProtocolRegistry"/> lists them. Nothing central names a protocol.
/// </summary>
internal sealed class ProtocolRegistration(string name, ListenerTransport transport)
{
    /// <summary>The idle timeout of a TCP listener that does not set its own, unless the protocol has another.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(5);

    private IReadOnlyList<string>? _listenerKeys;

    /// <summary>As written in <c>Protocol</c> and in messages; matched case-insensitively.</summary>
    public string Name { get; } = name;

    public ListenerTransport Transport { get; } = transport;

    /// <summary>Whether its handler greets with the listener's <c>Banner</c>; the key is refused on listeners of protocols that do not.</summary>
    public bool SendsBanner { get; init; }

    /// <summary>
    /// The protocol's own listener keys, as the public properties of an options class of the
    /// protocol's: a listener of this protocol is offered them beside the shared <see cref="Configuration.ListenerOptions"/>
    /// keys and gets them bound to an instance (<see cref="ListenerDefinition.Own{T}"/>); other protocols' listeners
    /// are refused them and not offered them. Null when the protocol has none.
    /// </summary>
    public Type? ListenerOptions { get; init; }

    /// <summary>
    /// Checks one listener's own keys: the key path of the listener (<c>EchoHost:Listeners:Name</c>) and its
    /// <see cref="ListenerOptions"/> instance, with the configured values or the class's defaults.
    /// </summary>
    public Action<string, object, List<string>>? ValidateListener { get; init; }

    /// <summary>The names of the protocol's own listener keys, in declaration order.</summary>
    public IReadOnlyList<string> ListenerKeys =>
        _listenerKeys ??= ListenerOptions?.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToList() ?? [];

    /// <summary>The protocol's own section of <c>EchoHost</c>, if it has one: its keys are checked and bound with the rest.</summary>
    public ProtocolSection? Section { get; init; }

    /// <summary>The idle timeout of this protocol's listeners that set none; may read the protocol's own section.</summary>
    public Func<EchoHostOptions, TimeSpan> IdleTimeout { get; init; } = static _ => DefaultIdleTimeout;

    /// <summary>Checks the protocol's own section of <c>EchoHost</c>, once, whether or not a listener uses it.</summary>
    public Action<EchoHostOptions, List<string>>? ValidateOptions { get; init; }

    /// <summary>TCP: the handler of one listener, shared by all its connections, after the connection pipeline.</summary>
    public Func<IServiceProvider, ListenerDefinition, ConnectionHandler>? Handler { get; init; }

    /// <summary>
    /// TCP, instead of <see cref="Handler"/>: the protocol speaks HTTP. Kestrel's HTTP/1.1 runs after the connection
    /// pipeline, and every request that came in on one of its listeners goes to the branch this builds for that
    /// listener (and never to the HTTP endpoint's routes).
    /// </summary>
    public Action<IApplicationBuilder, ListenerDefinition>? HttpApplication { get; init; }

    /// <summary>
    /// TCP: whether the handler is EchoHost's own short, non-blocking code all the way (no dependency, no lock held
    /// for long, no wait), so that its plain-TCP listeners may run it on the socket engine's thread
    /// (Transport/InlineSocketListener) instead of handing every read to the thread pool.
    /// </summary>
    public bool RunsOnSocketThreads { get; init; }

    /// <summary><c>echo</c>: the <c>echohost.protocol</c> tag and the lower-case name in logs.</summary>
    public string TagValue => Name.ToLowerInvariant();

    /// <summary>A <see cref="ListenerOptions"/> instance with the class's defaults; null when the protocol has none.</summary>
    public object? NewListenerOptions() => ListenerOptions is { } type ? Activator.CreateInstance(type) : null;

    public override string ToString() => Name;
}
