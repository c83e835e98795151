using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EchoHost.Configuration;

/// <summary>
/// The protocols this host can serve, in registration order: what the configuration checks a listener's
/// <c>Protocol</c> against, and where hosting finds a listener's handler.
/// </summary>
internal sealed class ProtocolRegistry
{
    private readonly Dictionary<string, ProtocolRegistration> _byName = new(StringComparer.OrdinalIgnoreCase);

    public ProtocolRegistry(IEnumerable<ProtocolRegistration> protocols)
    {
        All = [.. protocols];
        foreach (var protocol in All)
        {
            if (!_byName.TryAdd(protocol.Name, protocol))
            {
                throw new InvalidOperationException($"Two protocols are registered as '{protocol.Name}'.");
            }

            if (protocol.ListenerKeys.FirstOrDefault(key => typeof(ListenerOptions).GetProperties().Any(p => p.Name.Equals(key, StringComparison.OrdinalIgnoreCase))) is { } shared)
            {
                throw new InvalidOperationException($"The protocol '{protocol.Name}' declares its own listener key '{shared}', a key every listener has.");
            }

            // A TCP listener is a Kestrel endpoint that ends in the protocol's handler or its HTTP branch: without one
            // it could not run, and with both it would not be clear which.
            if (protocol.Transport == ListenerTransport.Tcp && (protocol.Handler is null) == (protocol.HttpApplication is null))
            {
                throw new InvalidOperationException($"The TCP protocol '{protocol.Name}' must register a handler or an HTTP application, one of them.");
            }
        }
    }

    public IReadOnlyList<ProtocolRegistration> All { get; }

    /// <summary>The protocols' own sections of <c>EchoHost</c>.</summary>
    public IEnumerable<ProtocolSection> Sections => All.Select(p => p.Section).OfType<ProtocolSection>();

    /// <summary>The listener keys of other protocols that <paramref name="protocol"/>'s listeners must not set, each with the protocols it is for.</summary>
    public IEnumerable<(string Key, string Owners)> ListenerKeysNotFor(ProtocolRegistration protocol) =>
        All.SelectMany(p => p.ListenerKeys).Distinct().Where(key => !protocol.ListenerKeys.Contains(key))
            .Select(key => (key, string.Join(", ", All.Where(p => p.ListenerKeys.Contains(key)).Select(p => p.Name))));

    /// <summary>The names to offer in a message: <c>Echo, Chat, UdpEcho</c>.</summary>
    public string Names => string.Join(", ", All.Select(p => p.Name));

    /// <summary>The protocol <paramref name="text"/> names, in any case and with spaces around it.</summary>
    public bool TryFind(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProtocolRegistration? protocol)
    {
        protocol = null;
        return !string.IsNullOrWhiteSpace(text) && _byName.TryGetValue(text.Trim(), out protocol);
    }
}

/// <summary>How a protocol folder adds itself: <c>services.AddProtocol(new ProtocolRegistration(…))</c>.</summary>
internal static class ProtocolRegistryServices
{
    public static IServiceCollection AddProtocol(this IServiceCollection services, ProtocolRegistration protocol)
    {
        services.AddSingleton(protocol);
        services.TryAddSingleton<ProtocolRegistry>();
        return services;
    }
}
