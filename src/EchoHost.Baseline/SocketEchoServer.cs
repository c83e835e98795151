using System.Net;
using System.Net.Sockets;

namespace EchoHost.Baseline;

/// <summary>
/// The floor of a .NET TCP echo: a listen socket, an <c>AcceptAsync</c> loop, and per connection one 4 KiB buffer with
/// <c>ReceiveAsync</c> then <c>SendAsync</c> of what came. No pipes, no Kestrel, no policy. RFC 862: when the peer
/// half-closes (a receive of 0) everything is echoed, so it shuts down its own sending side and closes. The benchmark
/// runs it with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, which is part of what the floor is.
/// </summary>
public sealed class SocketEchoServer : IDisposable
{
    /// <summary>Kestrel's listen backlog, so both accept alike under churn.</summary>
    private const int Backlog = 512;

    private readonly Socket _listener;

    private SocketEchoServer(Socket listener)
    {
        _listener = listener;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _ = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    public static SocketEchoServer Start(IPEndPoint endPoint)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(endPoint);
        listener.Listen(Backlog);
        return new SocketEchoServer(listener);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                return; // disposed
            }
            catch (SocketException)
            {
                continue; // a connection reset while queued: the next one
            }

            _ = EchoAsync(connection);
        }
    }

    private static async Task EchoAsync(Socket connection)
    {
        using var _ = connection;
        connection.NoDelay = true;
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await connection.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                for (var sent = 0; sent < n;)
                {
                    sent += await connection.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
                }
            }

            connection.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Reset or aborted by the peer: that connection ends, nothing else does.
        }
    }

    public void Dispose() => _listener.Dispose();
}
