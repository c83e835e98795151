using System.Net.Sockets;

namespace EchoHost.Load.Modes;

/// <summary>A line the server sent, without its line end.</summary>
internal delegate void LineHandler(ReadOnlySpan<byte> line);

/// <summary>
/// One chat user's connection as lines each way: raw TCP (<see cref="TcpChatLink"/>: CRLF-terminated lines) or
/// WebSocket (<see cref="WebSocketChatLink"/>: one text message per line). The user's protocol (EchoHost chat or IRC)
/// is the same over both.
/// </summary>
internal abstract class ChatLink : IDisposable
{
    /// <summary>The longest line read before it is a failure.</summary>
    public const int MaxLineBytes = 65536;

    /// <summary>Made for user number <paramref name="id"/>: its target (users take turns over several) decides the transport.</summary>
    public static ChatLink For(LoadOptions options, int id)
    {
        var connection = Tcp.NewConnection(options, id);
        return options.TargetFor(id).WebSocket is { } url
            ? new WebSocketChatLink(connection, url, options.Dialect == ChatDialect.Irc ? WebSocketChatLink.IrcSubprotocol : null)
            : new TcpChatLink(connection);
    }

    /// <summary>The socket: what the watchdog closes when the join runs out of time.</summary>
    public abstract Socket Socket { get; }

    /// <summary>Connects (and upgrades to a WebSocket).</summary>
    public abstract Task ConnectAsync();

    /// <summary>Sends one line, <paramref name="line"/> ending in CRLF (which a WebSocket message leaves out); never several lines at once.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> line);

    /// <summary>Reads lines until the server closes; returns how it closed. Throws when the connection fails.</summary>
    public abstract Task<string> ReceiveLinesAsync(LineHandler onLine);

    /// <summary>The client's side of the end: no more lines from us (a WebSocket close frame, or a TCP shutdown).</summary>
    public abstract Task CloseAsync();

    public abstract void Dispose();
}
