using System.Text.RegularExpressions;

namespace EchoHost.Configuration;

/// <summary>
/// The placeholders a listener's <c>Banner</c> may use, for the check at start; the echo protocol fills them in
/// (Protocols/Echo/BannerTemplate).
/// </summary>
internal static partial class BannerPlaceholders
{
    public static IReadOnlyList<string> Names { get; } = ["host", "listener", "local", "remote", "pod", "namespace", "node"];

    /// <summary>The first unknown placeholder in <paramref name="banner"/>, or null when every one is known.</summary>
    public static string? FindUnknown(string banner) =>
        Pattern().Matches(banner).Select(m => m.Groups[1].Value)
            .FirstOrDefault(name => !Names.Contains(name, StringComparer.Ordinal));

    /// <summary><c>{word}</c>; other braces are text.</summary>
    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    internal static partial Regex Pattern();
}
