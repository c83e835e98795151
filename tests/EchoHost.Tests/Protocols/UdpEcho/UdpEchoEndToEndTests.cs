using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.UdpEcho;

public sealed class UdpEchoEndToEndTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(1472)]
    [InlineData(9000)]
    [InlineData(65_507)]
    public async Task A_datagram_comes_back_byte_identical_from_the_listener_port(int size)
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);

        await client.SendToAsync(payload, SocketFlags.None, host.UdpEndPoint(), TestTimeouts.Token());
        var (reply, from) = await client.ReceiveDatagramAsync();

        Assert.Equal(payload, reply);
        Assert.Equal(host.UdpEndPoint(), from);
        Assert.Equal(size, (await host.UdpStats("UdpEcho").SettledAsync()).BytesSent);
    }

    [Fact]
    public async Task Sixteen_concurrent_senders_get_all_300_datagrams_each_answered_exactly()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        var server = host.UdpEndPoint();

        var senders = Enumerable.Range(0, 16).Select(sender => Task.Run(async () =>
        {
            using var client = UdpTestSockets.Bind(IPAddress.Loopback);
            for (var i = 0; i < 300; i++)
            {
                var payload = new byte[Random.Shared.Next(8, 1400)];
                Random.Shared.NextBytes(payload);
                BitConverter.TryWriteBytes(payload.AsSpan(0, 4), sender);
                BitConverter.TryWriteBytes(payload.AsSpan(4, 4), i);
                Assert.Equal(payload, await client.EchoAsync(server, payload));
            }
        }));
        await Task.WhenAll(senders);

        var stats = await host.UdpStats("UdpEcho").SettledAsync();
        Assert.Equal(16 * 300, stats.DatagramsReceived);
        Assert.Equal(16 * 300, stats.DatagramsSent);
        Assert.Equal(stats.BytesReceived, stats.BytesSent);
        Assert.Equal(0, stats.DroppedTotal);
    }

    [Fact]
    public async Task Ipv6_loopback_literal_serves_over_ipv6()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?> { ["Address"] = "::1" }));
        using var client = UdpTestSockets.Bind(IPAddress.IPv6Loopback);

        Assert.Equal(IPAddress.IPv6Loopback, host.UdpEndPoint().Address);
        Assert.Equal("over IPv6"u8.ToArray(), await client.EchoAsync(host.UdpEndPoint(), "over IPv6"u8.ToArray()));
    }

    [Fact]
    public async Task Star_is_one_dual_stack_socket_serving_ipv4_and_ipv6()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?> { ["Address"] = "*" }));
        var port = host.UdpEndPoint().Port;
        using var v4 = UdpTestSockets.Bind(IPAddress.Loopback);
        using var v6 = UdpTestSockets.Bind(IPAddress.IPv6Loopback);

        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, port), Assert.Single(host.Endpoints.EndPoints("UdpEcho")));
        Assert.Equal("over IPv4"u8.ToArray(), await v4.EchoAsync(new IPEndPoint(IPAddress.Loopback, port), "over IPv4"u8.ToArray()));
        Assert.Equal("over IPv6"u8.ToArray(), await v6.EchoAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), "over IPv6"u8.ToArray()));
    }

    [Fact]
    public async Task Localhost_binds_both_loopbacks_on_one_port()
    {
        var port = FreeUdpPortOnBothLoopbacks();
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            ["Address"] = "localhost",
            ["Port"] = port.ToString(),
        }));
        using var v4 = UdpTestSockets.Bind(IPAddress.Loopback);
        using var v6 = UdpTestSockets.Bind(IPAddress.IPv6Loopback);

        Assert.Equal(
            [new IPEndPoint(IPAddress.Loopback, port), new IPEndPoint(IPAddress.IPv6Loopback, port)],
            host.Endpoints.EndPoints("UdpEcho"));
        Assert.Equal("a"u8.ToArray(), await v4.EchoAsync(new IPEndPoint(IPAddress.Loopback, port), "a"u8.ToArray()));
        Assert.Equal("b"u8.ToArray(), await v6.EchoAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), "b"u8.ToArray()));
        await host.Logs.WaitForAsync(e => e.Message == $"Listener UdpEcho (udpecho) listening on localhost:{port}/udp");
    }

    [Fact]
    public async Task Two_udp_listeners_serve_side_by_side_with_their_own_counters()
    {
        var config = UdpConfig.Listener("First");
        foreach (var (key, value) in UdpConfig.Listener("Second"))
        {
            config[key] = value;
        }

        await using var host = await TestHost.StartAsync(config);
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);

        Assert.NotEqual(host.UdpEndPoint("First"), host.UdpEndPoint("Second"));
        Assert.Equal("one"u8.ToArray(), await client.EchoAsync(host.UdpEndPoint("First"), "one"u8.ToArray()));
        Assert.Equal("two"u8.ToArray(), await client.EchoAsync(host.UdpEndPoint("Second"), "two"u8.ToArray()));
        Assert.Equal("two!"u8.ToArray(), await client.EchoAsync(host.UdpEndPoint("Second"), "two!"u8.ToArray()));
        Assert.Equal(1, (await host.UdpStats("First").SettledAsync()).DatagramsSent);
        Assert.Equal(2, (await host.UdpStats("Second").SettledAsync()).DatagramsSent);
    }

    [Fact]
    public async Task Udp_listener_is_logged_at_start_and_listed_by_the_http_endpoint()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        var port = host.UdpEndPoint().Port;
        using var http = new HttpClient();

        var started = await host.Logs.WaitForAsync(e => e.Message == $"Listener UdpEcho (udpecho) listening on 127.0.0.1:{port}/udp");
        var description = await http.GetStringAsync(host.HttpBase, TestTimeouts.Token());

        Assert.Equal(LogLevel.Information, started.Level);
        Assert.Contains($"UdpEcho (udpecho) on 127.0.0.1:{port}/udp", description);
        Assert.Contains($"Echo (echo) on 127.0.0.1:{host.EndPoint().Port}/tcp", description);
    }

    [Fact]
    public async Task Udp_and_tcp_listeners_can_share_a_port_number()
    {
        await using var tcpOnly = await TestHost.StartAsync();
        var port = tcpOnly.EndPoint().Port;
        await tcpOnly.StopAsync();

        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:Port"] = port.ToString(),
            ["EchoHost:Listeners:UdpEcho:Protocol"] = "UdpEcho",
            ["EchoHost:Listeners:UdpEcho:Port"] = port.ToString(),
        });
        using var udp = UdpTestSockets.Bind(IPAddress.Loopback);
        using var tcp = await SocketExtensions.ConnectAsync(host.EndPoint());

        Assert.Equal(port, host.UdpEndPoint().Port);
        Assert.Equal("udp"u8.ToArray(), await udp.EchoAsync(host.UdpEndPoint(), "udp"u8.ToArray()));
        await tcp.AssertEchoesAsync("tcp\n");
    }

    [Fact]
    public async Task Stopping_closes_the_sockets_so_the_port_is_free_again()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        var endPoint = host.UdpEndPoint();
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);
        Assert.Equal("x"u8.ToArray(), await client.EchoAsync(endPoint, "x"u8.ToArray()));

        await host.StopAsync();

        using var rebound = UdpTestSockets.Bind(endPoint.Address, endPoint.Port);
        Assert.Equal(endPoint, rebound.LocalEndPoint);
    }

    /// <summary>A port free on 127.0.0.1 and ::1 both, for a <c>localhost</c> listener (which cannot use port 0).</summary>
    private static int FreeUdpPortOnBothLoopbacks()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var v4 = UdpTestSockets.Bind(IPAddress.Loopback);
            try
            {
                using var v6 = UdpTestSockets.Bind(IPAddress.IPv6Loopback, v4.LocalPort());
                return v4.LocalPort();
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
