using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;

namespace EchoHost.Udp;

/// <summary>A UDP listener could not bind; carries what <c>StartupErrors</c> needs for its one line.</summary>
internal sealed class UdpBindException(ListenerDefinition listener, IPEndPoint endPoint, SocketException inner)
    : IOException($"Failed to bind listener '{listener.Name}' to {endPoint}/udp: {inner.Message}", inner)
{
    public ListenerDefinition Listener => listener;

    public IPEndPoint EndPoint => endPoint;

    public SocketError SocketErrorCode => inner.SocketErrorCode;
}
