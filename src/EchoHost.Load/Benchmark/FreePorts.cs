using System.Net;
using System.Net.Sockets;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// Ports for the servers, below 32768: above it is the ephemeral range, where the client's own connections (and
/// their TIME_WAIT) could take a port just before a server binds it. Free means bindable for TCP and UDP on both
/// loopbacks, because EchoHost's shipped address "localhost" binds both.
/// </summary>
internal static class FreePorts
{
    public static int[] Pick(int count)
    {
        var result = new List<int>();
        var first = 20000 + Environment.ProcessId % 1000 * 10;
        for (var port = first; result.Count < count; port++)
        {
            if (port >= 32768)
            {
                port = 10000;
            }

            if (port == first - 1)
            {
                throw new BenchmarkException("no free ports below 32768");
            }

            if (IsFree(port))
            {
                result.Add(port);
            }
        }

        return [.. result];
    }

    private static bool IsFree(int port)
    {
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            foreach (var (type, protocol) in new[] { (SocketType.Stream, ProtocolType.Tcp), (SocketType.Dgram, ProtocolType.Udp) })
            {
                try
                {
                    using var socket = new Socket(address.AddressFamily, type, protocol);
                    socket.Bind(new IPEndPoint(address, port));
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
                {
                    // no IPv6 loopback on this machine: nothing can take it there either
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
