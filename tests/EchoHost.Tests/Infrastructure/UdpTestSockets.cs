using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

/// <summary>Client-side UDP for tests: bound sockets, one-datagram round trips, and checking for datagrams already here.</summary>
internal static class UdpTestSockets
{
    /// <summary>A UDP socket bound to <paramref name="address"/> (the source address the server will see).</summary>
    public static Socket Bind(IPAddress address, int port = 0)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, port));
        return socket;
    }

    public static int LocalPort(this Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>Waits for one datagram; the timeout only guards against a hang.</summary>
    public static async Task<(byte[] Data, IPEndPoint From)> ReceiveDatagramAsync(this Socket socket, TimeSpan? timeout = null)
    {
        var buffer = new byte[65_536];
        var any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, TestTimeouts.Token(timeout));
        return (buffer[..result.ReceivedBytes], (IPEndPoint)result.RemoteEndPoint);
    }

    /// <summary>Sends one datagram and returns the next one that arrives.</summary>
    public static async Task<byte[]> EchoAsync(this Socket socket, IPEndPoint server, byte[] payload)
    {
        await socket.SendToAsync(payload, SocketFlags.None, server, TestTimeouts.Token());
        return (await socket.ReceiveDatagramAsync()).Data;
    }

    /// <summary>
    /// Reads, without waiting, the datagrams already queued on <paramref name="socket"/>. Used after a probe's reply
    /// proved the server has handled everything sent before it: on loopback its replies are already queued.
    /// </summary>
    public static int DrainQueued(this Socket socket)
    {
        var buffer = new byte[65_536];
        var count = 0;
        while (socket.Poll(0, SelectMode.SelectRead))
        {
            socket.Receive(buffer);
            count++;
        }

        return count;
    }
}
