using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The confusable skeleton of Unicode Technical Standard #39 (section 4, "Confusable Detection"): two strings that
/// look alike have the same skeleton. The mapping is Unicode's confusables.txt (<see cref="Data"/>), as Ergo uses it.
/// </summary>
internal static partial class ChatConfusables
{
    private static readonly FrozenDictionary<int, string> Map = Parse(Data);

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
            if (Map.TryGetValue(rune.Value, out var prototype))
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

    private static string Decompose(string text) =>
        Ascii.IsValid(text) || text.IsNormalized(NormalizationForm.FormD) ? text : text.Normalize(NormalizationForm.FormD);

    private static FrozenDictionary<int, string> Parse(string data)
    {
        var map = new Dictionary<int, string>();
        foreach (var line in data.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = line.IndexOf(';');
            var prototype = new StringBuilder();
            foreach (var point in line[(separator + 1)..].Split(' '))
            {
                prototype.Append(char.ConvertFromUtf32(int.Parse(point, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }

            map[int.Parse(line.AsSpan(0, separator), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = prototype.ToString();
        }

        return map.ToFrozenDictionary();
    }
}
