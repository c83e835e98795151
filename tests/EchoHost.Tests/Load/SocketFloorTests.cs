using System.Net;
using System.Net.Sockets;
using EchoHost.Baseline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Load;

/// <summary>
/// The plain socket floor (<c>EchoHost.Baseline socket</c>) echoes as RFC 862 asks, so the benchmark's stream and churn
/// loads, which check the exact echo length after a half-close, hold against it.
/// </summary>
public sealed class SocketFloorTests
{
    [Fact]
    public async Task Half_close_gets_back_exactly_what_was_sent_then_the_servers_close()
    {
        using var server = SocketEchoServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await SocketExtensions.ConnectAsync(server.EndPoint);
        // Larger than the server's 4 KiB buffer, so the echo takes many receive/send turns.
        var sent = new byte[100_000];
        new Random(862).NextBytes(sent);
        var echoed = client.ReceiveToEndAsync();
        await client.SendAllAsync(sent);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(sent, await echoed); // every byte, nothing more, then the server's FIN
    }

    [Fact]
    public async Task A_reset_connection_ends_only_itself()
    {
        using var server = SocketEchoServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var survivor = await SocketExtensions.ConnectAsync(server.EndPoint);
        await survivor.SendAllAsync("before"u8.ToArray());
        Assert.Equal("before"u8.ToArray(), await survivor.ReceiveExactlyAsync(6));

        using (var reset = await SocketExtensions.ConnectAsync(server.EndPoint))
        {
            await reset.SendAllAsync(new byte[1000]);
            reset.LingerState = new LingerOption(true, 0); // close with an RST
        }

        await survivor.SendAllAsync("after"u8.ToArray());
        Assert.Equal("after"u8.ToArray(), await survivor.ReceiveExactlyAsync(5));
        using var next = await SocketExtensions.ConnectAsync(server.EndPoint);
        await next.SendAllAsync("next"u8.ToArray());
        Assert.Equal("next"u8.ToArray(), await next.ReceiveExactlyAsync(4));
    }

    [Theory]
    [InlineData("stream", new[] { "--connections", "2", "--size", "64k" })]
    [InlineData("churn", new[] { "--connections", "4" })]
    [InlineData("pingpong", new[] { "--connections", "4", "--size", "5000" })]
    public async Task The_load_clients_checked_modes_pass_against_it(string mode, string[] options)
    {
        using var server = SocketEchoServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var run = await LoadClientRun.RunAsync([mode, "--target", server.EndPoint.ToString(), "--duration", "1", "--json", .. options]);
        run.AssertClean(minOps: 10);
    }
}
