namespace EchoHost.Protocols.Web;

/// <summary>
/// Whether a browser page may open a WebSocket here (RFC 6455 section 10.2): a browser sends its page's origin, and a
/// page from another site must not act for a user who visited it. Allowed: no Origin (not a browser), the listener's own
/// page (same host and port as the request), and the configured origins.
/// </summary>
internal sealed class WebOrigins(IEnumerable<string> allowed)
{
    private readonly bool _any = allowed.Contains("*");
    private readonly HashSet<string> _allowed = allowed.Where(o => o != "*").Select(o => Normalize(o)!).Where(o => o is not null).ToHashSet(StringComparer.Ordinal);

    public bool Allows(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || _any)
        {
            return true;
        }

        if (Normalize(origin) is not { } normalized)
        {
            return false;
        }

        // The page's own origin: the host and port the browser asked this listener for (on this listener's one scheme).
        return (Normalize($"http://{context.Request.Host}") is { } own && Authority(normalized) == Authority(own)) || _allowed.Contains(normalized);
    }

    private static string Authority(string origin) => origin[(origin.IndexOf("://", StringComparison.Ordinal) + 3)..];

    /// <summary><c>scheme://host[:port]</c> in lower case with a default port left out; null if it is not an origin.</summary>
    public static string? Normalize(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" ||
            uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            return null;
        }

        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.IdnHost.ToLowerInvariant()}" : $"{uri.Scheme}://{uri.IdnHost.ToLowerInvariant()}:{uri.Port}";
    }
}
