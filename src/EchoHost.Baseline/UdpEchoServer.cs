using System.Net;
using System.Net.Sockets;

namespace EchoHost.Baseline;

/// <summary>A plain socket echo loop on one thread: ReceiveFrom, SendTo, nothing else (no policy, no rate limit, no counters).</summary>
public sealed class UdpEchoServer : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _thread;

    private UdpEchoServer(Socket socket)
    {
        _socket = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _thread = new Thread(Loop) { IsBackground = true, Name = "udp echo" };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    public static UdpEchoServer Start(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 * 1024 * 1024; // as EchoHost asks for, so both drop (or not) alike
        socket.Bind(endPoint);
        return new UdpEchoServer(socket);
    }

    private void Loop()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        while (true)
        {
            try
            {
                var n = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
                _socket.SendTo(buffer.AsSpan(0, n), SocketFlags.None, from);
            }
            catch (SocketException)
            {
                // An ICMP error from an earlier reply (a client that went away): the loop goes on.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
