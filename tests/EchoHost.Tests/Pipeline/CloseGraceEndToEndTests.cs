using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace EchoHost.Tests.Pipeline;

/// <summary>What happens to bytes a handler has written but a client never takes.</summary>
public sealed class CloseGraceEndToEndTests
{
    [Fact]
    public async Task A_client_that_half_closes_and_never_reads_is_aborted_after_the_close_grace()
    {
        // No idle timeout: nothing but the close grace can end this connection. The server's send buffer is small and
        // fixed (accepted sockets inherit it from the listening one), so a few kilobytes fill it for sure.
        await using var host = await TestHost.StartAsync(
            new Dictionary<string, string?> { ["EchoHost:Listeners:Echo:IdleTimeout"] = "00:00:00" },
            builder => builder.Services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = endPoint =>
            {
                var listen = SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                listen.SendBufferSize = 8192;
                return listen;
            }));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(host.EndPoint());
        var clientEndPoint = client.LocalEndPoint!.ToString();

        // More than the socket buffers hold, less than they and Kestrel's 64 KiB output pipe do: the handler reads it
        // all, its echo waits in the pipe for a client that never reads, it sees the FIN and returns, and the
        // transport is left with bytes nobody takes.
        await client.SendAllAsync(new byte[48 * 1024]);
        client.Shutdown(SocketShutdown.Send);
        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains(" closed (closed by client)") && e.State["RemoteEndPoint"]?.ToString() == clientEndPoint);

        var aborted = await host.Logs.WaitForAsync(e => e.Message.Contains("aborting") && e.State["RemoteEndPoint"]?.ToString() == clientEndPoint);

        Assert.Equal(LogLevel.Information, aborted.Level);
        Assert.Contains(closed.State["ConnectionId"]?.ToString()!, aborted.Message);
        // The client now sees its connection end (what it reads first is whatever reached it).
        Assert.True(await client.WaitForServerCloseAsync());
    }
}
