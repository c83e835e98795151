using System.Net.Sockets;

namespace EchoHost.Load.Modes;

/// <summary>A chat user over raw TCP (or TLS): lines end in CRLF (a bare LF is accepted too).</summary>
internal sealed class TcpChatLink(Connection connection) : ChatLink
{
    public override Socket Socket => connection.Socket;

    public override Task ConnectAsync() => connection.ConnectAsync().AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> line)
    {
        // Sent now, on the calling thread: the one sender loop and the receive loop's answers (a JOIN, a PONG) take turns.
        lock (connection)
        {
            connection.Send(line.Span);
        }

        return ValueTask.CompletedTask;
    }

    public override async Task<string> ReceiveLinesAsync(LineHandler onLine)
    {
        var buffer = new byte[MaxLineBytes];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                throw new IOException($"a line longer than {buffer.Length} bytes");
            }

            var n = await connection.ReceiveAsync(buffer.AsMemory(filled));
            if (n == 0)
            {
                return "the server closed the connection";
            }

            filled += n;
            var consumed = 0;
            int newline;
            while ((newline = buffer.AsSpan(consumed, filled - consumed).IndexOf((byte)'\n')) >= 0)
            {
                var line = buffer.AsSpan(consumed, newline);
                onLine(line.Length > 0 && line[^1] == '\r' ? line[..^1] : line);
                consumed += newline + 1;
            }

            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
        }
    }

    public override Task CloseAsync()
    {
        connection.Socket.Shutdown(SocketShutdown.Both);
        return Task.CompletedTask;
    }

    public override void Dispose() => connection.Dispose();
}
