using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>An IRC client over a real socket, as irssi speaks it: CRLF lines, registration, reads until a line matches.</summary>
internal sealed class IrcTestClient : IDisposable
{
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private IrcTestClient(Socket socket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public Socket Socket { get; }

    public string Nick { get; private set; } = "";

    /// <summary>Every line read so far.</summary>
    public List<string> Seen { get; } = [];

    public static async Task<IrcTestClient> OpenAsync(IPEndPoint endPoint) => new(await SocketExtensions.ConnectAsync(endPoint));

    /// <summary>Connects and registers as <paramref name="nick"/> (asking for <paramref name="caps"/> first, if any); returns the lines up to 366 of #lobby.</summary>
    public static async Task<(IrcTestClient Client, List<string> Burst)> ConnectAsync(IPEndPoint endPoint, string nick, params string[] caps)
    {
        var client = await OpenAsync(endPoint);
        if (caps.Length > 0)
        {
            await client.SendAsync("CAP LS 302");
            await client.SendAsync($"CAP REQ :{string.Join(' ', caps)}");
        }

        await client.SendAsync($"NICK {nick}");
        await client.SendAsync($"USER {nick} 0 * :{nick}");
        if (caps.Length > 0)
        {
            await client.SendAsync("CAP END");
        }

        var burst = await client.ReadUntilAsync(l => l.Contains(" 366 ", StringComparison.Ordinal));
        burst.Add(client.LastLine);
        client.Nick = burst.Single(l => l.Contains(" 001 ", StringComparison.Ordinal)).Split(' ')[2];
        return (client, burst);
    }

    public Task SendAsync(string line) => SendRawAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes, TestTimeouts.Token());
        await _stream.FlushAsync();
    }

    public async Task<string> ReadLineAsync()
    {
        var line = await _reader.ReadLineAsync(TestTimeouts.Token()) ?? throw new EndOfStreamException("The server closed the connection.");
        Seen.Add(line);
        return line;
    }

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

    /// <summary>Reads until a line contains <paramref name="text"/>; returns that line.</summary>
    public async Task<string> ExpectAsync(string text)
    {
        await ReadUntilAsync(l => l.Contains(text, StringComparison.Ordinal));
        return LastLine;
    }

    /// <summary>Everything the server sent before now: a PING with a token, and the lines before its PONG.</summary>
    public async Task<List<string>> SyncAsync()
    {
        var token = Guid.NewGuid().ToString("N");
        await SendAsync($"PING :{token}");
        return await ReadUntilAsync(l => l.Contains(" PONG ", StringComparison.Ordinal) && l.EndsWith(token, StringComparison.Ordinal));
    }

    public string LastLine { get; private set; } = "";

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
