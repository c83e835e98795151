using System.Net;
using System.Net.Sockets;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// What a receive loop needs from a UDP socket. The seam lets units drive <see cref="UdpEchoLoop"/> with no socket,
/// including the errors a real one reports only now and then.
/// </summary>
internal interface IDatagramSocket
{
    AddressFamily AddressFamily { get; }

    /// <summary>
    /// Waits for one datagram and receives it into <paramref name="buffer"/>; <paramref name="source"/> is overwritten
    /// with its sender. Closing the socket ends the wait with an exception.
    /// </summary>
    int ReceiveFrom(Span<byte> buffer, SocketAddress source);

    int SendTo(ReadOnlySpan<byte> datagram, SocketAddress destination);
}

/// <summary>
/// A bound <see cref="Socket"/>, through the <see cref="SocketAddress"/> overloads: with a reused address and buffer
/// they allocate nothing per datagram. Only blocking calls are ever made on it, so the runtime leaves the socket in
/// blocking mode and each call is one system call. Closing the socket ends a pending receive.
/// </summary>
internal sealed class DatagramSocket(Socket socket) : IDatagramSocket
{
    public AddressFamily AddressFamily => socket.AddressFamily;

    public int ReceiveFrom(Span<byte> buffer, SocketAddress source) => socket.ReceiveFrom(buffer, SocketFlags.None, source);

    public int SendTo(ReadOnlySpan<byte> datagram, SocketAddress destination) => socket.SendTo(datagram, SocketFlags.None, destination);
}
