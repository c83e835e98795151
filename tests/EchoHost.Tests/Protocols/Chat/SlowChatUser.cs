using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>A user with a small receive buffer that reads only when told to: a slow reader, from any loopback address.</summary>
internal sealed class SlowChatUser(Socket socket) : LineClient(socket, "\n")
{
    public static async Task<SlowChatUser> ConnectAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        socket.Bind(new IPEndPoint(from ?? IPAddress.Loopback, 0));
        await socket.ConnectAsync(endPoint, TestTimeouts.Token());
        return new SlowChatUser(socket);
    }
}
