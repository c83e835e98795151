using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// Clients that hold a server's resources from one address: echo clients that send and never read, and connections
/// that connect and say nothing. Each knows whether the server refused it (closed it at once).
/// </summary>
internal static class Exhaustion
{
    private static readonly byte[] Chunk = new byte[64 * 1024];

    /// <summary>
    /// Opens <paramref name="count"/> echo clients from <paramref name="from"/> that send zeros and never read, and pushes
    /// until no send makes progress for a few rounds: every buffer between them and the server is full. Returns the
    /// clients the server kept and how many it closed (refused) meanwhile.
    /// </summary>
    public static async Task<(List<Socket> Held, int Closed)> OpenNonReadersAsync(IPEndPoint echo, IPAddress from, int count)
    {
        var sockets = new List<Socket>();
        for (var i = 0; i < count; i++)
        {
            // Small kernel buffers on this side: thousands of them must not take the test machine's memory.
            var socket = new Socket(echo.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendBufferSize = 16 * 1024 };
            socket.Bind(new IPEndPoint(from, 0));
            try
            {
                await socket.ConnectAsync(echo, TestTimeouts.Token(TimeSpan.FromSeconds(5)));
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                continue;
            }

            socket.Blocking = false;
            sockets.Add(socket);
        }

        var closed = new HashSet<Socket>();
        for (var quiet = 0; quiet < 4;)
        {
            long progress = 0;
            foreach (var socket in sockets.Where(s => !closed.Contains(s)))
            {
                while (true)
                {
                    var sent = socket.Send(Chunk, 0, Chunk.Length, SocketFlags.None, out var error);
                    progress += Math.Max(sent, 0);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        closed.Add(socket);
                        break;
                    }
                }
            }

            quiet = progress == 0 ? quiet + 1 : 0;
            await Task.Delay(50);
        }

        foreach (var socket in closed)
        {
            socket.Dispose();
        }

        return (sockets.Where(s => !closed.Contains(s)).ToList(), closed.Count);
    }

    /// <summary>
    /// Opens connections from <paramref name="from"/> that send nothing, until the server closes one (a refusal) or
    /// <paramref name="max"/> are open. A connect the server does not take within a few seconds also ends it.
    /// Returns the open ones and whether one was refused.
    /// </summary>
    public static async Task<(List<Socket> Open, bool Refused)> OpenIdleUntilRefusedAsync(IPEndPoint endPoint, IPAddress from, int max)
    {
        var open = new List<Socket>();
        while (open.Count < max)
        {
            // In batches, each checked at once for a close: a refusal comes within a moment of the connect.
            var batch = new List<Socket>();
            for (var i = 0; i < 25 && open.Count + batch.Count < max; i++)
            {
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(from, 0));
                try
                {
                    await socket.ConnectAsync(endPoint, TestTimeouts.Token(TimeSpan.FromSeconds(5)));
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    socket.Dispose();
                    open.AddRange(batch);
                    return (open, false);
                }

                batch.Add(socket);
            }

            var closed = await Task.WhenAll(batch.Select(ClosedSoonAsync));
            open.AddRange(batch.Where((_, i) => !closed[i]));
            foreach (var socket in batch.Where((_, i) => closed[i]))
            {
                socket.Dispose();
            }

            if (closed.Any(c => c))
            {
                return (open, true);
            }
        }

        return (open, false);
    }

    /// <summary>True when the server closes <paramref name="socket"/> within a moment: a refusal, not a served connection.</summary>
    private static async Task<bool> ClosedSoonAsync(Socket socket)
    {
        var buffer = new byte[1];
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token(TimeSpan.FromMilliseconds(300))) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>
    /// Bounded polling until a fresh echo client from 127.0.0.1 is served: true when one was within
    /// <paramref name="timeout"/>.
    /// </summary>
    public static async Task<bool> EchoAnswersWithinAsync(IPEndPoint echo, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            try
            {
                using var socket = new Socket(echo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(echo, TestTimeouts.Token(TimeSpan.FromSeconds(3)));
                var probe = "ping\n"u8.ToArray();
                await socket.SendAsync(probe, SocketFlags.None, TestTimeouts.Token(TimeSpan.FromSeconds(3)));
                var answer = await socket.ReceiveExactlyAsync(probe.Length, TimeSpan.FromSeconds(3));
                if (answer.AsSpan().SequenceEqual(probe))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }

    /// <summary>Bounded polling until <c>GET path</c> answers 200: true when it did within <paramref name="timeout"/>.</summary>
    public static async Task<bool> HttpAnswersWithinAsync(Uri baseAddress, string path, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(3) };
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            try
            {
                using var response = await http.GetAsync(path);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }
}
