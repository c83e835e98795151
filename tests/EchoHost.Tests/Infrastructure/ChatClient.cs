using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>A chat user over a real socket, reading the server's CRLF lines.</summary>
internal sealed class ChatClient : IDisposable
{
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private ChatClient(Socket socket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public Socket Socket { get; }

    public string Nick { get; private set; } = "";

    /// <summary>
    /// Connects, sends <paramref name="proxyHeader"/> first if given (as a load balancer would), and reads the greeting
    /// up to the "You are now in lobby" line; returns the lines in between.
    /// </summary>
    public static async Task<ChatClient> ConnectAsync(IPEndPoint endPoint, byte[]? proxyHeader = null)
    {
        var socket = await SocketExtensions.ConnectAsync(endPoint);
        if (proxyHeader is not null)
        {
            await socket.SendAllAsync(proxyHeader);
        }

        var client = new ChatClient(socket);
        var welcome = await client.ReadLineAsync();
        Assert.StartsWith("*** Welcome to EchoHost chat, guest-", welcome);
        client.Nick = welcome["*** Welcome to EchoHost chat, ".Length..welcome.IndexOf('!')];
        client.Greeting = await client.ReadUntilAsync(l => l.StartsWith("*** You are now in lobby", StringComparison.Ordinal));
        return client;
    }

    /// <summary>What came between the welcome line and the "You are now in" line: the history, if any.</summary>
    public List<string> Greeting { get; private set; } = [];

    public async Task SendAsync(string line) => await SendRawAsync(Encoding.UTF8.GetBytes(line + "\n"));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes, TestTimeouts.Token());
        await _stream.FlushAsync();
    }

    public async Task<string> ReadLineAsync() =>
        await _reader.ReadLineAsync(TestTimeouts.Token()) ?? throw new EndOfStreamException("The server closed the connection.");

    /// <summary>Reads lines until one matches; returns the lines before it (the match is in <see cref="LastLine"/>).</summary>
    public async Task<List<string>> ReadUntilAsync(Func<string, bool> match)
    {
        var before = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (match(line))
            {
                LastLine = line;
                return before;
            }

            before.Add(line);
        }
    }

    public string LastLine { get; private set; } = "";

    /// <summary>Asks for <paramref name="nick"/> and returns the answer, past whatever the room said meanwhile.</summary>
    public async Task<string> AskNickAsync(string nick)
    {
        await SendAsync($"/nick {nick}");
        await ReadUntilAsync(l => l.StartsWith("*** You are now known as ", StringComparison.Ordinal) || l.StartsWith("!!!", StringComparison.Ordinal));
        return LastLine;
    }

    /// <summary>
    /// Everything the server sent before now: asks for /who and returns the lines that came before its answer. The
    /// server answers in order, so a line meant for this user before the /who would be in the list.
    /// </summary>
    public async Task<List<string>> SyncAsync()
    {
        await SendAsync("/who");
        return await ReadUntilAsync(l => l.StartsWith("*** ", StringComparison.Ordinal) && l.Contains(" (") && l.Contains("): "));
    }

    /// <summary>Reads until the server closes; returns the lines that came first.</summary>
    public async Task<List<string>> ReadToEndAsync()
    {
        var lines = new List<string>();
        while (await _reader.ReadLineAsync(TestTimeouts.Token()) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    public void Dispose() => _reader.Dispose();
}
