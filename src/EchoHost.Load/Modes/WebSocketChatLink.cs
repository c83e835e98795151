using System.Net.Sockets;
using System.Net.WebSockets;

namespace EchoHost.Load.Modes;

/// <summary>
/// A chat user over WebSocket: one text message per line each way (EchoHost's <c>/ws/chat</c>; IRC over WebSocket
/// with subprotocol <c>text.ircv3.net</c> at <c>/ws/irc</c>). A message with line ends in it is read as its lines.
/// </summary>
internal sealed class WebSocketChatLink(Connection connection, Uri url, string? subprotocol) : ChatLink
{
    /// <summary>IRC over WebSocket, one IRC line per text message (IRCv3's WebSocket specification).</summary>
    public const string IrcSubprotocol = "text.ircv3.net";

    // The runtime's WebSocket allows one send at a time: the sender loop and the receive loop's answers take turns.
    private readonly SemaphoreSlim _sending = new(1, 1);
    private WebSocket? _socket;

    public override Socket Socket => connection.Socket;

    private WebSocket Open => _socket ?? throw new InvalidOperationException("not connected");

    public override async Task ConnectAsync()
    {
        await connection.ConnectAsync();
        _socket = await WebSocketHandshake.UpgradeAsync(connection, url, subprotocol);
    }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> line)
    {
        var text = line.Span.EndsWith("\r\n"u8) ? line[..^2] : line;
        await _sending.WaitAsync();
        try
        {
            await Open.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    public override async Task<string> ReceiveLinesAsync(LineHandler onLine)
    {
        var buffer = new byte[MaxLineBytes];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                throw new IOException($"a message longer than {buffer.Length} bytes");
            }

            var result = await Open.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return $"the server closed the WebSocket ({WebSocketPingPong.Closed(Open)})";
            }

            if (result.MessageType != WebSocketMessageType.Text)
            {
                throw new IOException("the server sent a binary message; a line is a text message");
            }

            filled += result.Count;
            if (!result.EndOfMessage)
            {
                continue;
            }

            var message = buffer.AsSpan(0, filled);
            int newline;
            while ((newline = message.IndexOf((byte)'\n')) >= 0)
            {
                var line = message[..newline];
                onLine(line.Length > 0 && line[^1] == '\r' ? line[..^1] : line);
                message = message[(newline + 1)..];
            }

            if (message.Length > 0)
            {
                onLine(message);
            }

            filled = 0;
        }
    }

    public override async Task CloseAsync()
    {
        if (_socket is not { State: WebSocketState.Open } socket)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _sending.WaitAsync(timeout.Token);
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }
        finally
        {
            _sending.Release();
        }
    }

    public override void Dispose()
    {
        _socket?.Dispose();
        connection.Dispose();
    }
}
