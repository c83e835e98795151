using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;

namespace EchoHost.Udp;

/// <summary>Binds a UDP listener's sockets by the same address rules Kestrel applies to TCP listeners.</summary>
internal static class UdpListenerSockets
{
    /// <summary>
    /// <c>*</c> and <c>::</c>: one dual-stack socket (IPv4 on 0.0.0.0 where the machine has no IPv6); <c>localhost</c>:
    /// one socket per loopback, tolerating a missing one as Kestrel does; an IP: that IP. Throws
    /// <see cref="UdpBindException"/> when the listener cannot be served.
    /// </summary>
    public static IReadOnlyList<Socket> Bind(ListenerDefinition listener) => listener.Address.Kind switch
    {
        BindAddressKind.Any => [BindAny(listener)],
        BindAddressKind.Localhost => BindLocalhost(listener),
        _ => [Open(listener, listener.Address.Ip!)],
    };

    private static Socket BindAny(ListenerDefinition listener)
    {
        if (!Socket.OSSupportsIPv6)
        {
            return Open(listener, IPAddress.Any);
        }

        try
        {
            return Open(listener, IPAddress.IPv6Any);
        }
        catch (UdpBindException ex) when (!IsFatal(ex.SocketErrorCode))
        {
            return Open(listener, IPAddress.Any);
        }
    }

    private static List<Socket> BindLocalhost(ListenerDefinition listener)
    {
        var sockets = new List<Socket>();
        UdpBindException? firstFailure = null;
        foreach (var loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            try
            {
                sockets.Add(Open(listener, loopback));
            }
            catch (UdpBindException ex) when (!IsFatal(ex.SocketErrorCode))
            {
                firstFailure ??= ex;
            }
            catch
            {
                sockets.ForEach(s => s.Dispose());
                throw;
            }
        }

        return sockets.Count > 0 ? sockets : throw firstFailure!;
    }

    /// <summary>Failures that are about the port, not about the address family: another loopback will not help.</summary>
    private static bool IsFatal(SocketError error) => error is SocketError.AddressAlreadyInUse or SocketError.AccessDenied;

    private static Socket Open(ListenerDefinition listener, IPAddress address)
    {
        var endPoint = new IPEndPoint(address, listener.Port);
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // No SO_REUSEADDR: a port another program holds must fail here, not be shared silently.
            socket.Bind(endPoint);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new UdpBindException(listener, endPoint, ex);
        }
    }
}
