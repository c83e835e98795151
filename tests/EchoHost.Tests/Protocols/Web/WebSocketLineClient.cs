using System.Net.WebSockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// A line user over a real WebSocket (<see cref="ClientWebSocket"/>): one line per message each way, as a browser page
/// or websocat would send and read them.
/// </summary>
internal sealed class WebSocketLineClient(ClientWebSocket socket) : IDisposable
{
    public ClientWebSocket Socket { get; } = socket;

    /// <summary>The line that matched the last <see cref="ReadUntilAsync"/>.</summary>
    public string LastLine { get; private set; } = "";

    /// <summary>The type of the last message read.</summary>
    public WebSocketMessageType LastType { get; private set; }

    public static async Task<WebSocketLineClient> ConnectAsync(TestHost host, string path, Action<ClientWebSocketOptions>? configure = null) =>
        new(await host.ConnectWebSocketAsync(path, configure));

    /// <summary>A chat user past its greeting (up to "You are now in lobby"); its nick from the welcome line.</summary>
    public static async Task<(WebSocketLineClient Client, string Nick)> JoinChatAsync(TestHost host)
    {
        var client = await ConnectAsync(host, "/ws/chat");
        var welcome = await client.ReadLineAsync() ?? throw new EndOfStreamException("closed before the welcome");
        Assert.StartsWith("*** Welcome to EchoHost chat, guest-", welcome);
        await client.ReadUntilAsync(l => l.StartsWith("*** You are now in lobby", StringComparison.Ordinal));
        return (client, welcome["*** Welcome to EchoHost chat, ".Length..welcome.IndexOf('!')]);
    }

    public Task SendAsync(string line, WebSocketMessageType type = WebSocketMessageType.Text) =>
        SendRawAsync(Encoding.UTF8.GetBytes(line), type);

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text) =>
        await Socket.SendAsync(bytes, type, endOfMessage: true, TestTimeouts.Token());

    /// <summary>The next message as text, or null once the server's close frame came.</summary>
    public async Task<string?> ReadLineAsync()
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await Socket.ReceiveAsync(buffer.AsMemory(), TestTimeouts.Token());
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            LastType = received.MessageType;
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    /// <summary>Reads messages until one matches; returns those before it (the match is in <see cref="LastLine"/>).</summary>
    public async Task<List<string>> ReadUntilAsync(Func<string, bool> match)
    {
        var before = new List<string>();
        while (await ReadLineAsync() is { } line)
        {
            if (match(line))
            {
                LastLine = line;
                return before;
            }

            before.Add(line);
        }

        throw new EndOfStreamException($"The server closed ({Socket.CloseStatus}: {Socket.CloseStatusDescription}); last lines: {string.Join(" | ", before.TakeLast(3))}");
    }

    /// <summary>Reads until the server's close frame; returns the messages that came first.</summary>
    public async Task<List<string>> ReadToCloseAsync()
    {
        var lines = new List<string>();
        while (await ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    public void Dispose() => Socket.Dispose();
}
