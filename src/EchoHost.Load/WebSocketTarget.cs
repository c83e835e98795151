namespace EchoHost.Load;

/// <summary>
/// <c>--target ws://host:port/path</c> (or <c>wss://</c>): the pingpong and chat loads over WebSocket instead of raw TCP.
/// A URL without a path gets the mode's EchoHost path: <c>/ws/echo</c> for pingpong, <c>/ws/chat</c> (IRC:
/// <c>/ws/irc</c>) for chat.
/// </summary>
internal static class WebSocketTarget
{
    public static bool IsUrl(string text) =>
        text.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("wss://", StringComparison.OrdinalIgnoreCase);

    public static LoadTarget Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            throw new UsageException($"--target: '{text}' is not a WebSocket URL such as ws://localhost:8081/ws/echo");
        }

        // Uri gives ws and wss their default ports (80, 443) when none is written.
        return new LoadTarget(LoadOptionsParser.Resolve(uri.IdnHost.Trim('[', ']'), uri.Port), uri.IdnHost.Trim('[', ']'), uri);
    }

    /// <summary>Checks WebSocket targets against the mode and TLS flags; gives a URL without a path the mode's default path.</summary>
    public static LoadTarget[] Check(LoadTarget[] targets, LoadMode mode, ChatDialect dialect, bool tls, bool tlsVerify)
    {
        if (mode is not (LoadMode.PingPong or LoadMode.Chat))
        {
            throw new UsageException($"--target: ws:// and wss:// apply to pingpong and chat only, not {LoadOptions.ModeName(mode)}");
        }

        if (targets.Any(t => t.WebSocket?.Scheme == "ws") && (tls || tlsVerify))
        {
            throw new UsageException("--tls: a ws:// target is plain WebSocket; write wss:// for TLS (--tls-verify then checks the certificate)");
        }

        var path = mode == LoadMode.PingPong ? "/ws/echo" : dialect == ChatDialect.Irc ? "/ws/irc" : "/ws/chat";
        return [.. targets.Select(t => t.WebSocket is { AbsolutePath: "/", Query: "" } uri ? t with { WebSocket = new UriBuilder(uri) { Path = path }.Uri } : t)];
    }
}
