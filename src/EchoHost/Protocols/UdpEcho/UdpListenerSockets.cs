using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Health;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>Binds a UDP listener's sockets by the same address rules Kestrel applies to TCP listeners.</summary>
internal static partial class UdpListenerSockets
{
    /// <summary>
    /// <c>*</c> and <c>::</c>: one dual-stack socket (IPv4 on 0.0.0.0 where the machine has no IPv6); <c>localhost</c>:
    /// one socket per loopback, tolerating a missing one as Kestrel does; an IP: that IP. Throws
    /// <see cref="ListenerBindException"/> when the listener cannot be served.
    /// </summary>
    public static IReadOnlyList<Socket> Bind(ListenerDefinition listener, ILogger logger) => listener.Address.Kind switch
    {
        BindAddressKind.Any => [BindAny(listener, logger)],
        BindAddressKind.Localhost => BindLocalhost(listener, logger),
        _ => [Open(listener, listener.Address.Ip!)],
    };

    private static Socket BindAny(ListenerDefinition listener, ILogger logger)
    {
        if (!Socket.OSSupportsIPv6)
        {
            return Open(listener, IPAddress.Any);
        }

        try
        {
            return Open(listener, IPAddress.IPv6Any);
        }
        catch (ListenerBindException ex) when (!ListenerBindException.IsAboutThePort(ex.SocketErrorCode))
        {
            LogFallingBackToIPv4(logger, listener.Name, ex.EndPoint, ex.SocketErrorCode);
            return Open(listener, IPAddress.Any);
        }
    }

    private static List<Socket> BindLocalhost(ListenerDefinition listener, ILogger logger)
    {
        var sockets = new List<Socket>();
        ListenerBindException? firstFailure = null;
        foreach (var loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            try
            {
                sockets.Add(Open(listener, loopback));
            }
            catch (ListenerBindException ex) when (!ListenerBindException.IsAboutThePort(ex.SocketErrorCode))
            {
                LogLoopbackUnavailable(logger, listener.Name, ex.EndPoint, ex.SocketErrorCode);
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

    /// <summary>The receive queue asked for each UDP socket; the kernel may grant less (net.core.rmem_max).</summary>
    internal const int ReceiveQueueBytes = 4 << 20;

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

            // A flood fills the default receive queue (about 200 KiB, a few milliseconds of small datagrams) whenever the
            // receive loop is not running, and the kernel then drops from every source alike, before the per-source
            // limit can tell the flooder from the rest. Linux caps this at net.core.rmem_max.
            socket.ReceiveBufferSize = ReceiveQueueBytes;

            // No SO_REUSEADDR: a port another program holds must fail here, not be shared silently.
            socket.Bind(endPoint);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenerBindException(listener, endPoint, "udp", ex.SocketErrorCode, ex);
        }
    }

    // The levels Kestrel uses for the same two events on TCP endpoints.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Listener {Listener}: cannot bind {EndPoint}/udp ({SocketError}); binding 0.0.0.0 (IPv4 only) instead")]
    private static partial void LogFallingBackToIPv4(ILogger logger, string listener, IPEndPoint endPoint, SocketError socketError);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listener {Listener}: cannot bind {EndPoint}/udp ({SocketError}); serving on the other loopback only")]
    private static partial void LogLoopbackUnavailable(ILogger logger, string listener, IPEndPoint endPoint, SocketError socketError);
}
