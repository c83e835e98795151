using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>A user with a small receive buffer that reads only when told to: a slow reader, from any loopback address.</summary>
internal sealed class SlowChatUser : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private SlowChatUser(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public static async Task<SlowChatUser> ConnectAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        socket.Bind(new IPEndPoint(from ?? IPAddress.Loopback, 0));
        await socket.ConnectAsync(endPoint, TestTimeouts.Token());
        return new SlowChatUser(socket);
    }

    public async Task SendAsync(string line) => await _socket.SendAllAsync(Encoding.UTF8.GetBytes(line + "\n"));

    public async Task<List<string>> ReadUntilAsync(Func<string, bool> match)
    {
        var before = new List<string>();
        while (await _reader.ReadLineAsync(TestTimeouts.Token()) is { } line)
        {
            if (match(line))
            {
                return before;
            }

            before.Add(line);
        }

        throw new EndOfStreamException($"The server closed the connection; last lines: {string.Join(" | ", before.TakeLast(3))}");
    }

    public void Dispose() => _reader.Dispose();
}
