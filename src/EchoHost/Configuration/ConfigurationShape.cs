using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;

namespace EchoHost.Configuration;

/// <summary>
/// Checks the raw <c>EchoHost</c> section before it is bound to <see cref="EchoHostOptions"/>: unknown keys and values
/// of the wrong type. Failures use the same one-line form as <see cref="EchoHostOptionsValidator"/>.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>Binds <paramref name="section"/> to <paramref name="options"/>, or throws with one line per bad key.</summary>
    /// <param name="root">The configuration the section is from: a bad key an environment variable set names that variable.</param>
    /// <param name="protocols">
    /// The registered protocols: their sections are checked and bound with the rest, and a listener of a known protocol
    /// is offered its transport's keys only.
    /// </param>
    public static void Bind(IConfigurationSection section, EchoHostOptions options, IConfiguration? root, ProtocolRegistry protocols)
    {
        var failures = new List<string>();
        Check(section, typeof(EchoHostOptions), new Sources(root as IConfigurationRoot, protocols), failures);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EchoHostOptions), failures);
        }

        section.Bind(options);
        ListenerShape.Bind(section.GetSection(nameof(EchoHostOptions.Listeners)), options, protocols);
        foreach (var protocolSection in protocols.Sections)
        {
            var bound = Activator.CreateInstance(protocolSection.OptionsType)!;
            section.GetSection(protocolSection.Key).Bind(bound);
            options.Sections.Set(protocolSection.Key, bound);
        }
    }

    /// <summary>
    /// A failure line (<c>key: what is wrong</c>) whose key an environment variable set, with that variable beside the
    /// key; any other line unchanged.
    /// </summary>
    public static string NameTheSource(IConfiguration? root, string failure)
    {
        var colon = failure.IndexOf(": ", StringComparison.Ordinal);
        if (root is not IConfigurationRoot configurationRoot || colon < 0 || failure.AsSpan(0, colon).Contains(' '))
        {
            return failure;
        }

        var key = failure[..colon];
        var named = new Sources(configurationRoot, new ProtocolRegistry([])).Key(key);
        return ReferenceEquals(named, key) ? failure : named + failure[colon..];
    }

    /// <summary>
    /// Walks the raw configuration: a key that binds to nothing (a typo) or a value of the wrong type must not
    /// silently fall back to a default — the binder drops a whole listener when one of its values does not convert.
    /// </summary>
    private static void Check(IConfigurationSection section, Type type, Sources sources, List<string> failures)
    {
        // A listener's keys are the shared ones plus its protocol's own.
        var properties = type == typeof(ListenerOptions)
            ? ListenerShape.Properties(section, sources.Protocols)
            : type.GetProperties(BindingFlags.Public | BindingFlags.Instance).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                if (type == typeof(EchoHostOptions) && sources.Protocols.Sections.FirstOrDefault(s => s.Key.Equals(child.Key, StringComparison.OrdinalIgnoreCase)) is { } own)
                {
                    Check(child, own.OptionsType, sources, failures);
                    continue;
                }

                var known = KnownKeys(section, type, properties.Keys, sources.Protocols);
                var guess = Closest(child.Key, known) is { } closest ? $"did you mean {closest}? " : string.Empty;
                failures.Add($"{sources.Key(child.Path)}: unknown key; {guess}known keys here are {string.Join(", ", known)}");
                continue;
            }

            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var valueType = propertyType.GetGenericArguments()[1];
                foreach (var entry in child.GetChildren())
                {
                    Check(entry, valueType, sources, failures);
                }
            }
            else if (ElementType(propertyType) is { } elementType)
            {
                CheckList(child, elementType, sources, failures);
            }
            else if (propertyType.IsClass && propertyType != typeof(string))
            {
                Check(child, propertyType, sources, failures);
            }
            else if (child.Value is { } value && !Converts(value, propertyType))
            {
                failures.Add($"{sources.Key(child.Path)}: '{value}' is not {Expected(propertyType)}");
            }
        }
    }

    /// <summary>
    /// A list is written as a JSON array or as one key per item (<c>…:DenySourcePorts:0</c>); the binder silently
    /// skips a plain value and any item that does not convert, so both are failures here. An empty value is an
    /// empty list.
    /// </summary>
    private static void CheckList(IConfigurationSection section, Type elementType, Sources sources, List<string> failures)
    {
        var items = section.GetChildren().ToList();
        if (items.Count == 0 && !string.IsNullOrEmpty(section.Value))
        {
            failures.Add($"{sources.Key(section.Path)}: '{section.Value}' is not a list; write a JSON array such as [ 7, 9 ], or one key per item: {section.Path}:0, {section.Path}:1, …");
        }

        foreach (var item in items)
        {
            if (item.Value is not { } value || !Converts(value, elementType))
            {
                failures.Add($"{sources.Key(item.Path)}: '{item.Value}' is not {Expected(elementType)}");
            }
        }
    }

    /// <summary>
    /// Where a key came from, for the keys a user set in an environment variable: the error names that variable
    /// (<c>EchoHost__Listeners__Echo__Prot</c>) beside the key, since the key's own spelling is not what they typed.
    /// </summary>
    private sealed class Sources(IConfigurationRoot? root, ProtocolRegistry protocols)
    {
        public ProtocolRegistry Protocols => protocols;

        public string Key(string path) =>
            FromEnvironment(path) && EnvironmentVariable(path) is { } variable ? $"{path} (environment variable {variable})" : path;

        /// <summary>Whether the provider that wins for this key (the last one that has it, or keys under it) is the environment.</summary>
        private bool FromEnvironment(string path)
        {
            foreach (var provider in root?.Providers.Reverse() ?? [])
            {
                if (provider.TryGet(path, out _) || provider.GetChildKeys([], path).Any())
                {
                    return provider is EnvironmentVariablesConfigurationProvider;
                }
            }

            return false;
        }

        /// <summary>
        /// The variable, as the user spelled it, whose name (any prefix, then the path with <c>__</c> for <c>:</c>)
        /// is this key or a key under it.
        /// </summary>
        private static string? EnvironmentVariable(string path)
        {
            string? under = null;
            foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>().Order(StringComparer.Ordinal))
            {
                var key = name.Replace("__", ":", StringComparison.Ordinal);
                var at = key.IndexOf(path, StringComparison.OrdinalIgnoreCase);
                if (at < 0 || key[..at].Contains(':', StringComparison.Ordinal))
                {
                    continue;
                }

                if (key.Length == at + path.Length)
                {
                    return name;
                }

                if (key[at + path.Length] == ':')
                {
                    under ??= name;
                }
            }

            return under;
        }
    }

    /// <summary>The keys to offer: a listener whose protocol is known is offered only its own transport's keys, and no other protocol's own.</summary>
    private static IReadOnlyList<string> KnownKeys(IConfigurationSection section, Type type, IEnumerable<string> keys, ProtocolRegistry protocols) =>
        type == typeof(EchoHostOptions) ? [.. keys, .. protocols.Sections.Select(s => s.Key)]
        : type == typeof(ListenerOptions) ? ListenerShape.Offered(section, protocols)
        : keys.ToList();

    /// <summary>
    /// The known key a typo most likely meant: the only one the key begins (Prot → Protocol), else the nearest within
    /// one edit for a short key and two for a longer one, case aside; none when nothing is that close.
    /// </summary>
    internal static string? Closest(string key, IReadOnlyList<string> known)
    {
        if (key.Length >= 3 && known.Where(k => k.StartsWith(key, StringComparison.OrdinalIgnoreCase)).ToList() is [var only])
        {
            return only;
        }

        var allowed = key.Length <= 4 ? 1 : 2;
        return known.Select(k => (Key: k, Distance: EditDistance(key.ToUpperInvariant(), k.ToUpperInvariant())))
            .Where(c => c.Distance <= allowed)
            .OrderBy(c => c.Distance)
            .Select(c => c.Key)
            .FirstOrDefault();
    }

    /// <summary>Edits (insert, delete, replace, swap two neighbours) that turn one string into the other.</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type != typeof(string) && type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0]
        : null;

    private static bool Converts(string value, Type type)
    {
        if (type == typeof(string) || (value.Length == 0 && !type.IsValueType))
        {
            return true;
        }

        // TimeSpan reads a bare number as days ("IdleTimeout": 300 would be 300 days): a duration is written with
        // colons. 0 is zero in any unit, and what the validator's "use 0 for no limit" advice writes.
        if (type == typeof(TimeSpan) && !value.Contains(':', StringComparison.Ordinal) && value.Trim() != "0")
        {
            return false;
        }

        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException
                                   || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Expected(Type type) =>
        type == typeof(int) ? "a whole number"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a duration; write hh:mm:ss, such as 00:05:00 (or d.hh:mm:ss)"
        : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : $"a valid {type.Name}";
}
