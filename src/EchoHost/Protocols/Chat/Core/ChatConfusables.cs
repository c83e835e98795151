using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The confusable skeleton of Unicode Technical Standard #39 (section 4, "Confusable Detection"): two strings that
/// look alike have the same skeleton. The mapping is Unicode's confusables.txt, as Ergo uses it, shipped as the
/// embedded resource <see cref="ResourceName"/> (its header carries the source and the licence).
/// </summary>
internal static class ChatConfusables
{
    /// <summary>The embedded mapping: '#' comment lines, then one mapping per line (<c>source;target target…</c>, in hex).</summary>
    public const string ResourceName = "EchoHost.Protocols.Chat.confusables.txt";

    /// <summary>
    /// NFD, each character replaced by its prototype in the mapping, NFD again. EchoHost runs with invariant
    /// globalization, where .NET leaves non-ASCII text as it is instead of normalizing it; nicks are ASCII, for which
    /// NFD changes nothing, so their skeletons are exact.
    /// </summary>
    public static string Skeleton(string text)
    {
        var decomposed = Decompose(text);
        var skeleton = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
        {
            if (Table.Map.TryGetValue(rune.Value, out var prototype))
            {
                skeleton.Append(prototype);
            }
            else
            {
                skeleton.Append(rune.ToString());
            }
        }

        return Decompose(skeleton.ToString());
    }

    /// <summary>The mapping: each source code point's prototype.</summary>
    internal static FrozenDictionary<int, string> Map => Table.Map;

    private static string Decompose(string text) =>
        Ascii.IsValid(text) || text.IsNormalized(NormalizationForm.FormD) ? text : text.Normalize(NormalizationForm.FormD);

    /// <summary>Parses the resource's text; each line is read as spans, so loading costs one string for the file and one per prototype.</summary>
    internal static FrozenDictionary<int, string> Parse(ReadOnlySpan<char> data)
    {
        var map = new Dictionary<int, string>(capacity: 6400);
        Span<char> prototype = stackalloc char[64];
        foreach (var entry in data.EnumerateLines())
        {
            var line = entry.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            var separator = line.IndexOf(';');
            if (separator <= 0)
            {
                throw new InvalidDataException($"{ResourceName}: '{line}' is not 'source;target…'");
            }

            var length = 0;
            var targets = line[(separator + 1)..];
            foreach (var range in targets.Split(' '))
            {
                var point = int.Parse(targets[range], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                length += new Rune(point).EncodeToUtf16(prototype[length..]);
            }

            map[int.Parse(line[..separator], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)] = prototype[..length].ToString();
        }

        return map.ToFrozenDictionary();
    }

    /// <summary>Holds the mapping, read from the resource on the first skeleton (not when the chat type is first touched).</summary>
    private static class Table
    {
        public static readonly FrozenDictionary<int, string> Map = Load();

        private static FrozenDictionary<int, string> Load()
        {
            using var stream = typeof(ChatConfusables).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(ChatConfusables).Assembly.GetName().Name}.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return Parse(reader.ReadToEnd());
        }
    }
}
