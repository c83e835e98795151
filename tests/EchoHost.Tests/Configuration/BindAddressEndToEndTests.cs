using System.Net;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

public sealed class BindAddressEndToEndTests
{
    [Fact]
    public async Task Ipv6_loopback_literal_serves_over_ipv6()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Address"] = "::1" });

        Assert.Equal(IPAddress.IPv6Loopback, host.EndPoint().Address);
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();
    }

    [Fact]
    public async Task Star_binds_every_interface_for_ipv4_and_ipv6_clients()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Address"] = "*",
            ["EchoHost:Http:Address"] = "127.0.0.1",
        });
        var port = host.EndPoint().Port;

        using var v4 = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        using var v6 = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port));
        await v4.AssertEchoesAsync("over IPv4\n");
        await v6.AssertEchoesAsync("over IPv6\n");

        // Dual-stack sockets report IPv4 peers as ::ffff:127.0.0.1; logs and per-IP limits use the plain IPv4 form.
        v4.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await v4.ReceiveToEndAsync();
        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains(" from 127.0.0.1:") && e.Message.Contains("closed ("));
        Assert.Equal(LogLevel.Information, closed.Level);
    }
}
