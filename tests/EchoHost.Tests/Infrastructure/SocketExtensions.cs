using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

internal static class SocketExtensions
{
    /// <summary>
    /// A loopback TCP port that was free a moment ago, for a program that must be told its port up front (a child
    /// process, a Prometheus server). Everything in-process uses port 0 instead. The port comes from below the kernel's
    /// ephemeral range, so the outgoing connections of other tests running at the same time (which take ephemeral
    /// ports) cannot take it before the program binds it, and no port is handed out twice in one run.
    /// </summary>
    public static int FreeLoopbackPort() => FreePort(port =>
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
        probe.Listen();
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    });

    /// <summary>The UDP form of <see cref="FreeLoopbackPort"/>.</summary>
    public static int FreeUdpLoopbackPort() => FreePort(port =>
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    });

    private static readonly HashSet<int> _handedOut = [];

    private static int FreePort(Func<int, int> bind)
    {
        var (low, high) = PortsBelowEphemeralRange.Value;
        lock (_handedOut)
        {
            for (var attempt = 0; attempt < 200 && high > low; attempt++)
            {
                var port = Random.Shared.Next(low, high + 1);
                if (_handedOut.Contains(port))
                {
                    continue;
                }

                try
                {
                    bind(port);
                    _handedOut.Add(port);
                    return port;
                }
                catch (SocketException)
                {
                    // Taken by something on this machine: try another.
                }
            }

            // No range to choose from (or all taken): the kernel's choice, an ephemeral port.
            var any = bind(0);
            _handedOut.Add(any);
            return any;
        }
    }

    /// <summary>Ten thousand ports just below the first ephemeral port (32768 on Linux by default).</summary>
    private static readonly Lazy<(int Low, int High)> PortsBelowEphemeralRange = new(() =>
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var first = File.Exists(range) && File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) is [var l, ..]
            ? int.Parse(l)
            : 32768;
        return (Math.Max(1024, first - 10_000), first - 1);
    });

    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        await socket.ConnectAsync(endPoint, TestTimeouts.Token());
        return socket;
    }

    public static Task SendAllAsync(this Socket socket, ReadOnlyMemory<byte> data) => socket.SendAllAsync(data, TestTimeouts.Token());

    /// <summary>Sends everything, stopped by <paramref name="token"/> (a campaign's own deadline, say) instead of the hang guard.</summary>
    public static async Task SendAllAsync(this Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the peer closes first.</summary>
    public static Task<byte[]> ReceiveExactlyAsync(this Socket socket, int count, TimeSpan? timeout = null) =>
        socket.ReceiveExactlyAsync(count, TestTimeouts.Token(timeout));

    /// <inheritdoc cref="ReceiveExactlyAsync(Socket, int, TimeSpan?)"/>
    public static async Task<byte[]> ReceiveExactlyAsync(this Socket socket, int count, CancellationToken token)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, token);
            if (read == 0)
            {
                return buffer[..filled];
            }

            filled += read;
        }

        return buffer;
    }

    /// <summary>Reads until the peer closes; returns what arrived.</summary>
    public static Task<byte[]> ReceiveToEndAsync(this Socket socket, TimeSpan? timeout = null) =>
        socket.ReceiveToEndAsync(TestTimeouts.Token(timeout));

    /// <inheritdoc cref="ReceiveToEndAsync(Socket, TimeSpan?)"/>
    public static async Task<byte[]> ReceiveToEndAsync(this Socket socket, CancellationToken token)
    {
        var all = new MemoryStream();
        var buffer = new byte[81920];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
            if (read == 0)
            {
                return all.ToArray();
            }

            all.Write(buffer, 0, read);
        }
    }

    /// <summary>
    /// True when the server closed the connection: a read returns 0 (FIN) or the connection is reset.
    /// Throws if nothing happens within the hang guard.
    /// </summary>
    public static async Task<bool> WaitForServerCloseAsync(this Socket socket, TimeSpan? timeout = null)
    {
        var buffer = new byte[4096];
        var token = TestTimeouts.Token(timeout);
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, token) > 0)
            {
            }

            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return true;
        }
    }

    /// <summary>Reads and discards until the socket is closed under it (by <see cref="Reset"/>, say) or the peer closes.</summary>
    public static async Task DrainAsync(this Socket socket, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>Closes abortively: a zero linger time makes the close send an RST instead of a FIN.</summary>
    public static void Reset(this Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>Sends a probe and expects it back: proves the connection was accepted and is being served.</summary>
    public static async Task AssertEchoesAsync(this Socket socket, string probe = "ping\n")
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(probe);
        await socket.SendAllAsync(bytes);
        Assert.Equal(bytes, await socket.ReceiveExactlyAsync(bytes.Length));
    }
}
