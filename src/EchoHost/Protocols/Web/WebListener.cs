using System.Net.WebSockets;
using System.Text;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Web;

/// <summary>
/// One Web listener, built once and shared by its requests: its definition and own keys, its instruments and log,
/// and the WebSocket rules every <c>/ws/…</c> path follows (the Origin allow-list, subprotocol negotiation, keepalive
/// pings, close frames with a reason).
/// </summary>
internal sealed partial class WebListener(ListenerDefinition listener, IServiceProvider services)
{
    /// <summary>A close frame's reason is at most 123 bytes of UTF-8 (RFC 6455 section 5.5: 125 with the code).</summary>
    private const int MaxCloseReasonBytes = 123;

    private WebSocketLineHandlers? _lines;

    private readonly WebOrigins _origins = new(listener.Own<WebListenerOptions>().AllowedOrigins);

    public ListenerDefinition Listener { get; } = listener;

    public WebListenerOptions Options { get; } = listener.Own<WebListenerOptions>();

    public ListenerMetrics Metrics { get; } = services.GetRequiredService<EchoHostMetrics>().ForListener(listener.Name, listener.ProtocolName);

    public IServiceProvider Services { get; } = services;

    public ILogger Logger { get; } = services.GetRequiredService<ILoggerFactory>().CreateLogger($"EchoHost.{listener.Protocol}");

    /// <summary>The chat's and IRC's connection handlers that <c>/ws/chat</c> and <c>/ws/irc</c> run.</summary>
    public WebSocketLineHandlers Lines => LazyInitializer.EnsureInitialized(ref _lines, () => new WebSocketLineHandlers(this));

    /// <summary>
    /// Accepts a WebSocket, or answers the request and returns null: a 400 when it is not a WebSocket request, a 403 for
    /// an Origin not allowed, a 400 when <paramref name="requireSubprotocol"/> and the client offered none of
    /// <paramref name="subprotocols"/>. The subprotocol chosen is the first of <paramref name="subprotocols"/> (the
    /// server's preference) that the client offered; never one it did not offer.
    /// </summary>
    public async Task<WebSocket?> AcceptWebSocketAsync(HttpContext context, IReadOnlyList<string> subprotocols, bool requireSubprotocol)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"{context.Request.PathBase}{context.Request.Path} is a WebSocket endpoint: connect with ws:// (or wss://) and an Upgrade: websocket request");
            return null;
        }

        if (!_origins.Allows(context))
        {
            LogOriginRefused(Logger, Listener.Name, context.Request.Headers.Origin.ToString());
            await RefuseAsync(context, StatusCodes.Status403Forbidden, $"origin {context.Request.Headers.Origin} may not open a WebSocket here; the listener's {nameof(WebListenerOptions.AllowedOrigins)} key lists the origins allowed");
            return null;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var chosen = subprotocols.FirstOrDefault(p => offered.Contains(p, StringComparer.Ordinal));
        if (chosen is null && requireSubprotocol && offered.Count > 0)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"none of the subprotocols offered ({string.Join(", ", offered)}) is spoken here; use {string.Join(" or ", subprotocols)}");
            return null;
        }

        return await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = chosen,
            KeepAliveInterval = Options.KeepAliveInterval,
            KeepAliveTimeout = Options.KeepAliveInterval > TimeSpan.Zero && Options.KeepAliveTimeout > TimeSpan.Zero ? Options.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
        });
    }

    /// <summary>Sends a close frame with <paramref name="reason"/> (cut to what a frame holds) and waits for the client's; never throws.</summary>
    public static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseAsync(status, CutReason(reason), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client is gone or will not finish the handshake: nothing more to tell it.
        }
    }

    /// <summary>The close frame that tells a client why the server ended its WebSocket, on every <c>/ws/…</c> path.</summary>
    public static (WebSocketCloseStatus Status, string Reason) CloseFrameFor(CloseReason? reason) => reason switch
    {
        CloseReason.SlowReader => (WebSocketCloseStatus.PolicyViolation, "too slow to read: the messages waiting for this client went over the server's limit"),
        CloseReason.IdleTimeout => (WebSocketCloseStatus.NormalClosure, "idle timeout"),
        CloseReason.Shutdown => (WebSocketCloseStatus.EndpointUnavailable, "server shutting down"),
        CloseReason.ClientClosed => (WebSocketCloseStatus.NormalClosure, "bye"),
        _ => (WebSocketCloseStatus.NormalClosure, "session ended"),
    };

    /// <summary>
    /// Sends a close frame without waiting for the client's answer, after any message being sent (<paramref name="sending"/>
    /// is held while one is); the receive loop sees the client's close frame and ends. Never throws.
    /// </summary>
    public static async Task CloseOutputAsync(WebSocket socket, SemaphoreSlim sending, WebSocketCloseStatus status, string reason)
    {
        try
        {
            await sending.WaitAsync();
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(status, CutReason(reason), CancellationToken.None);
                }
            }
            finally
            {
                sending.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Gone already.
        }
    }

    /// <summary>
    /// Disposes a WebSocket the handler is done with, unless it is aborted (a protocol error such as bad UTF-8, a missed
    /// keepalive): disposing that one would abort the connection (ASP.NET Core's server WebSocket does), a reset that can
    /// overtake the close frame the WebSocket layer just sent; left alone, the request ends and Kestrel closes cleanly.
    /// </summary>
    public static void Release(WebSocket socket)
    {
        if (socket.State != WebSocketState.Aborted)
        {
            socket.Dispose();
        }
    }

    /// <summary>A plain-text answer of one line to a request that cannot go on.</summary>
    public static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        // The line may repeat what the client sent (a path, an Origin): never to be taken for a page.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
        return context.Response.WriteAsync(message + "\n");
    }

    internal static string CutReason(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes)
        {
            return reason;
        }

        var length = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes - 3 || char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return reason[..length] + "…";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} refused a WebSocket from origin {Origin}: not in AllowedOrigins")]
    private static partial void LogOriginRefused(ILogger logger, string listener, string origin);
}
