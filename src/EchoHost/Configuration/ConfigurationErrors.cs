namespace EchoHost.Configuration;

internal static class ConfigurationErrors
{
    /// <summary>How a failed key reads on stderr, at start-up and from <c>--health</c> alike.</summary>
    public static string Line(string failure) => $"EchoHost: configuration error: {failure}";
}
