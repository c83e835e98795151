using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>A client of a line protocol over a real socket: sends lines with its protocol's ending, reads the server's lines.</summary>
internal abstract class LineClient : IDisposable
{
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;
    private readonly string _lineEnding;

    protected LineClient(Socket socket, string lineEnding)
    {
        Socket = socket;
        _lineEnding = lineEnding;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public Socket Socket { get; }

    /// <summary>The line that matched the last <see cref="ReadUntilAsync"/>.</summary>
    public string LastLine { get; private set; } = "";

    public Task SendAsync(string line) => SendRawAsync(Encoding.UTF8.GetBytes(line + _lineEnding));

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
        while (await _reader.ReadLineAsync(TestTimeouts.Token()) is { } line)
        {
            if (match(line))
            {
                LastLine = line;
                return before;
            }

            before.Add(line);
        }

        // The last lines say why the server ended the session when a test fails here.
        throw new EndOfStreamException($"The server closed the connection; last lines: {string.Join(" | ", before.TakeLast(3))}");
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
