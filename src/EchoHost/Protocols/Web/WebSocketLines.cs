using System.Net.WebSockets;
using EchoHost.Pipeline;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Protocols.Web;

/// <summary>
/// <c>/ws/chat</c> and <c>/ws/irc</c>: the line chat and IRC over WebSocket, one line per message each way. The TCP
/// listeners' connection handlers run unchanged over a <see cref="WebSocketLineBridge"/>, so a WebSocket user has the
/// same greeting, commands, notices, rooms, history, flood control, line limit and slow-reader policy as a TCP user,
/// in the same chat. The session ends as the handler ends it, and the WebSocket then gets a close frame saying why.
/// </summary>
internal static class WebSocketLines
{
    /// <summary>IRCv3's subprotocols (https://ircv3.net/specs/extensions/websocket): text or binary messages.</summary>
    public const string IrcText = "text.ircv3.net";
    public const string IrcBinary = "binary.ircv3.net";

    private static readonly string[] _noSubprotocols = [];

    public static async Task ChatAsync(HttpContext context, WebListener web)
    {
        if (await SessionAsync(context) is not { } session
            || await web.AcceptWebSocketAsync(context, _noSubprotocols, requireSubprotocol: false) is not { } socket)
        {
            return;
        }

        try
        {
            await RunAsync(context, session, socket, web.Lines.Chat, WebSocketMessageType.Text, acceptBinary: false);
        }
        finally
        {
            WebListener.Release(socket);
        }
    }

    /// <summary>
    /// IRC as IRCv3 says: the first of its subprotocols in the client's order of preference; binary.ircv3.net exchanges
    /// binary messages, text.ircv3.net (and no subprotocol, for older clients) text ones from the server. Either kind is
    /// read as lines from the client: a line that is not UTF-8 gets the IRC listener's notice, as on TCP.
    /// </summary>
    public static async Task IrcAsync(HttpContext context, WebListener web)
    {
        var chosen = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p is IrcText or IrcBinary);
        if (await SessionAsync(context) is not { } session
            || await web.AcceptWebSocketAsync(context, chosen is null ? _noSubprotocols : [chosen], requireSubprotocol: false) is not { } socket)
        {
            return;
        }

        try
        {
            var outgoing = chosen == IrcBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
            await RunAsync(context, session, socket, web.Lines.Irc, outgoing, acceptBinary: true);
        }
        finally
        {
            WebListener.Release(socket);
        }
    }

    private static async Task RunAsync(
        HttpContext context, ConnectionSession session, WebSocket socket, ConnectionHandler handler, WebSocketMessageType outgoing, bool acceptBinary)
    {
        var bridge = new WebSocketLineBridge(socket, outgoing, acceptBinary);
        var connection = new WebSocketLineConnection(context, session, socket, bridge.Transport);
        using var stop = new CancellationTokenSource();
        var receiving = bridge.ReceiveAsync(stop.Token);
        var sending = bridge.SendAsync(CancellationToken.None);
        try
        {
            await handler.OnConnectedAsync(connection);
        }
        finally
        {
            // As Kestrel does after a TCP handler: its output ends (the rest is sent), its input is let go.
            await bridge.Transport.Output.CompleteAsync();
            await bridge.Transport.Input.CompleteAsync();
        }

        // Every handler ends by requesting a close, so a client that stopped reading holds this no longer than the
        // close grace, after which the connection is aborted and the send fails.
        await sending;
        var (status, reason) = CloseFrame(receiving, session);
        await WebListener.CloseAsync(socket, status, reason, context.RequestAborted);
        await stop.CancelAsync();
        await receiving;
    }

    /// <summary>The close frame that tells the client why its session ended.</summary>
    internal static (WebSocketCloseStatus Status, string Reason) CloseFrame(Task<WebSocketInputEnd> receiving, ConnectionSession session)
    {
        if (receiving is { IsCompletedSuccessfully: true, Result: WebSocketInputEnd.BinaryRefused })
        {
            return (WebSocketCloseStatus.InvalidMessageType, "binary messages are not accepted here: send each line as a text message");
        }

        return WebListener.CloseFrameFor(session.CloseRequestReason);
    }

    /// <summary>The connection's session, from the pipeline every Web listener runs; a 500 with a line if it is missing.</summary>
    private static async Task<ConnectionSession?> SessionAsync(HttpContext context)
    {
        if (context.Features.Get<ConnectionSession>() is { } session)
        {
            return session;
        }

        await WebListener.RefuseAsync(context, StatusCodes.Status500InternalServerError, "this connection did not come through a Web listener's connection pipeline");
        return null;
    }
}
