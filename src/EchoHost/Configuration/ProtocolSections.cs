namespace EchoHost.Configuration;

/// <summary>A protocol's own section of <c>EchoHost</c> (<c>EchoHost:{Key}</c>), bound to an options class of the protocol's.</summary>
internal sealed record ProtocolSection(string Key, Type OptionsType);

/// <summary>
/// The protocols' own sections of <c>EchoHost</c>, each bound to the class its protocol registered: the shape check
/// walks them like any other section, and a protocol reads its own with <see cref="Get{T}"/>. A section that is
/// not in the configuration reads as the class's defaults.
/// </summary>
internal sealed class ProtocolSections
{
    private readonly Dictionary<string, object> _sections = new(StringComparer.OrdinalIgnoreCase);

    public T Get<T>(string key)
        where T : class, new()
    {
        lock (_sections)
        {
            if (!_sections.TryGetValue(key, out var section))
            {
                _sections[key] = section = new T();
            }

            return (T)section;
        }
    }

    public void Set(string key, object section)
    {
        lock (_sections)
        {
            _sections[key] = section;
        }
    }
}
