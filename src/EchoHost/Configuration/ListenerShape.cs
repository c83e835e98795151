using System.Reflection;

namespace EchoHost.Configuration;

/// <summary>
/// The keys of one entry of <c>EchoHost:Listeners</c>: the shared <see cref="ListenerOptions"/> keys plus its
/// protocol's own (<see cref="ProtocolRegistration.ListenerOptions"/>), found by reflection like the shared ones.
/// <see cref="ConfigurationShape"/> checks, offers and binds them with this.
/// </summary>
internal static class ListenerShape
{
    private static readonly PropertyInfo[] Shared = typeof(ListenerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>
    /// What a key of this listener may name: a shared key, its protocol's own, or another protocol's own — checked
    /// against the type of the protocol that owns it, and refused afterwards by the validator with one line naming
    /// that protocol, as for a key of the other transport.
    /// </summary>
    public static Dictionary<string, PropertyInfo> Properties(IConfigurationSection listener, ProtocolRegistry protocols)
    {
        var properties = Shared.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        // Its own protocol's first: a key two protocols own is checked as its own.
        var owners = protocols.TryFind(listener[nameof(ListenerOptions.Protocol)], out var protocol) ? protocols.All.Prepend(protocol) : protocols.All;
        foreach (var type in owners.Select(p => p.ListenerOptions).OfType<Type>())
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                properties.TryAdd(property.Name, property);
            }
        }

        return properties;
    }

    /// <summary>
    /// The keys to offer for this listener: of a known protocol, the shared keys of its transport and its protocol's
    /// own, no other protocol's; of an unknown one, every key. A protocol's own keys come after
    /// <see cref="ListenerOptions.ProtocolKeysAfter"/>.
    /// </summary>
    public static IReadOnlyList<string> Offered(IConfigurationSection listener, ProtocolRegistry protocols)
    {
        var known = protocols.TryFind(listener[nameof(ListenerOptions.Protocol)], out var protocol);
        var notHere = known ? ListenerOptions.KeysNotFor(protocol!.Transport) : [];
        var own = known ? protocol!.ListenerKeys : protocols.All.SelectMany(p => p.ListenerKeys);

        var keys = new List<string>();
        foreach (var key in Shared.Select(p => p.Name))
        {
            if (!notHere.Contains(key))
            {
                keys.Add(key);
            }

            if (key == ListenerOptions.ProtocolKeysAfter)
            {
                keys.AddRange(own);
            }
        }

        return keys.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// After the binder filled <paramref name="options"/>' listeners: binds each listener's section again to its
    /// protocol's own options class, and notes which keys it sets.
    /// </summary>
    public static void Bind(IConfigurationSection listeners, EchoHostOptions options, ProtocolRegistry protocols)
    {
        foreach (var entry in listeners.GetChildren())
        {
            if (!options.Listeners.TryGetValue(entry.Key, out var listener))
            {
                continue;
            }

            // An empty value binds to nothing (null), so it sets nothing, as the binder sees it.
            listener.Written = [.. entry.GetChildren().Where(c => !string.IsNullOrEmpty(c.Value) || c.GetChildren().Any()).Select(c => c.Key)];
            if (protocols.TryFind(listener.Protocol, out var protocol) && protocol.NewListenerOptions() is { } own)
            {
                entry.Bind(own);
                listener.Own = own;
            }
        }
    }
}
