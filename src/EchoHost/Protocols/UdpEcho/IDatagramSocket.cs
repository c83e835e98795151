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

    /// <summary>Receives one datagram into <paramref name="buffer"/>; <paramref name="source"/> is overwritten with its sender.</summary>
    ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketAddress source);

    ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, SocketAddress destination);
}

/// <summary>
/// A bound <see cref="Socket"/>, through the <see cref="SocketAddress"/> overloads: with a reused address and buffer
/// they allocate nothing per datagram. No cancellation token: closing the socket ends a pending receive.
/// </summary>
internal sealed class DatagramSocket(Socket socket) : IDatagramSocket
{
    public AddressFamily AddressFamily => socket.AddressFamily;

    public ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketAddress source) =>
        socket.ReceiveFromAsync(buffer, SocketFlags.None, source, CancellationToken.None);

    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, SocketAddress destination) =>
        socket.SendToAsync(datagram, SocketFlags.None, destination, CancellationToken.None);
}
