using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace EchoHost.Load.Modes;

/// <summary>
/// The client side of the RFC 6455 opening handshake over a <see cref="Connection"/> (so a WebSocket gets the TCP
/// modes' source addresses, TLS and watchdog), then the runtime's own WebSocket over that stream. Written here rather
/// than through <c>ClientWebSocket</c> so that a refusal is reported with the server's own words: its status line and
/// the one-line text body EchoHost answers a bad upgrade with.
/// </summary>
internal static class WebSocketHandshake
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxResponseBytes = 8192;

    /// <summary>Upgrades the connected <paramref name="connection"/> to a WebSocket at <paramref name="url"/>, offering <paramref name="subprotocol"/> if any.</summary>
    public static async Task<WebSocket> UpgradeAsync(Connection connection, Uri url, string? subprotocol = null)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = new StringBuilder()
            .Append("GET ").Append(url.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(url.Authority).Append("\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (subprotocol is not null)
        {
            request.Append("Sec-WebSocket-Protocol: ").Append(subprotocol).Append("\r\n");
        }

        var stream = new ReadBufferedStream(connection.AsStream());
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
        var (status, headers) = await ReadHeadAsync(stream);
        if (!status.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
        {
            throw new WebSocketHandshakeException($"the server did not upgrade to a WebSocket: {status}{await ReadBodyLineAsync(stream, headers)}");
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));
        if (!headers.TryGetValue("upgrade", out var upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
            || headers.GetValueOrDefault("sec-websocket-accept") != accept)
        {
            throw new WebSocketHandshakeException($"the server's 101 is not a WebSocket upgrade (Upgrade '{upgrade}', Sec-WebSocket-Accept '{headers.GetValueOrDefault("sec-websocket-accept")}', expected '{accept}')");
        }

        // RFC 6455 4.1: a subprotocol the client did not offer fails the connection.
        var chosen = headers.GetValueOrDefault("sec-websocket-protocol");
        if (chosen is not null && chosen != subprotocol)
        {
            throw new WebSocketHandshakeException($"the server chose subprotocol '{chosen}', which was not offered ({subprotocol ?? "none offered"})");
        }

        // No keepalive pings of ours: the client answers the server's (the runtime does, while a receive is pending).
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, SubProtocol = chosen, KeepAliveInterval = TimeSpan.Zero });
    }

    /// <summary>
    /// Reads the response head one byte at a time from the stream's buffer: a server may send its first message right
    /// behind the 101 (the chat greeting), and those bytes stay in the buffer for the WebSocket.
    /// </summary>
    private static async Task<(string Status, Dictionary<string, string> Headers)> ReadHeadAsync(Stream stream)
    {
        var head = new byte[MaxResponseBytes];
        var length = 0;
        while (length < 4 || !head.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
        {
            if (length == head.Length)
            {
                throw new WebSocketHandshakeException($"the server's answer to the upgrade has no end of headers within {MaxResponseBytes} bytes");
            }

            if (await stream.ReadAsync(head.AsMemory(length, 1)) == 0)
            {
                throw new WebSocketHandshakeException(length == 0
                    ? "the server closed the connection without answering the WebSocket upgrade"
                    : $"the server closed the connection within its answer to the upgrade: '{Encoding.ASCII.GetString(head, 0, length).Split("\r\n")[0]}'");
            }

            length++;
        }

        var lines = Encoding.Latin1.GetString(head, 0, length - 4).Split("\r\n");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                var name = line[..colon].Trim().ToLowerInvariant();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
            }
        }

        return (lines[0], headers);
    }

    /// <summary>
    /// The first line of a refusal's body, bounded (EchoHost answers a refused upgrade with one line of text), whether
    /// sent with a Content-Length or chunked (its first chunk); empty when there is none or it does not come within 2 s.
    /// </summary>
    private static async Task<string> ReadBodyLineAsync(Stream stream, Dictionary<string, string> headers)
    {
        var chunked = headers.GetValueOrDefault("transfer-encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;
        _ = int.TryParse(headers.GetValueOrDefault("content-length"), out var length);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            if (chunked)
            {
                var sizeLine = await ReadLineAsync(stream, timeout.Token);
                length = int.TryParse(sizeLine.Split(';')[0], System.Globalization.NumberStyles.HexNumber, null, out var size) ? size : 0;
            }

            var body = new byte[Math.Clamp(length, 0, 1024)];
            var got = 0;
            while (got < body.Length)
            {
                var n = await stream.ReadAsync(body.AsMemory(got), timeout.Token);
                if (n == 0)
                {
                    break;
                }

                got += n;
            }

            var text = Encoding.UTF8.GetString(body, 0, got).Split('\n')[0].Trim();
            return text.Length == 0 ? "" : $" ({text})";
        }
        catch (Exception ex) when (ex is OperationCanceledException || Connection.IsFailure(ex))
        {
            return "";
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken cancel)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 64 && await stream.ReadAsync(one, cancel) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        return line.ToString().Trim();
    }
}

/// <summary>The server did not upgrade to a WebSocket as RFC 6455 requires; the message says what it did instead.</summary>
internal sealed class WebSocketHandshakeException(string message) : IOException(message);
