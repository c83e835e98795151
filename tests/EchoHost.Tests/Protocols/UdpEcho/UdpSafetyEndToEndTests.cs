using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Protocols.UdpEcho;

/// <summary>
/// The rules that keep the UDP echo from being a weapon. "No reply" is proven without waiting: after the datagram
/// that must be dropped, a probe from another socket is answered; the server handles one socket's datagrams in
/// order and loopback delivers at once, so any reply to the first would already be queued.
/// </summary>
public sealed class UdpSafetyEndToEndTests
{
    private static readonly byte[] Probe = "probe"u8.ToArray();

    [Fact]
    public async Task A_source_port_in_DenySourcePorts_gets_no_reply_and_the_drop_is_counted()
    {
        using var denied = UdpTestSockets.Bind(IPAddress.Loopback);
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            ["DenySourcePorts:0"] = "9",
            ["DenySourcePorts:1"] = denied.LocalPort().ToString(),
        }));

        await AssertDroppedAsync(host, denied, "from a denied port"u8.ToArray());

        Assert.Equal(1, host.UdpStats("UdpEcho").Dropped(UdpDropReason.DeniedPort));
    }

    [Fact]
    public async Task The_shipped_default_denylist_refuses_the_echo_port_7()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        var listener = Assert.Single(host.Listeners.Udp);
        Assert.Equal([0, 7, 9, 13, 17, 19, 37], listener.Udp.DenySourcePorts);

        if (Environment.IsPrivilegedProcess)
        {
            // As root (CI) the test can send from port 7 itself: an echo service's own port, the classic loop.
            using var fromEchoPort = UdpTestSockets.Bind(IPAddress.Loopback, 7);
            await AssertDroppedAsync(host, fromEchoPort, "from port 7"u8.ToArray());
            Assert.Equal(1, host.UdpStats("UdpEcho").Dropped(UdpDropReason.DeniedPort));
        }
        else
        {
            // Unprivileged, port 7 cannot be bound: check the running listener's rules decide the same.
            var policy = new DatagramPolicy(listener.Udp, [host.UdpEndPoint().Port], TimeProvider.System);
            Assert.Equal(UdpDropReason.DeniedPort, policy.Check(new IPEndPoint(IPAddress.Loopback, 7).Serialize(), 10));
        }
    }

    [Fact]
    public async Task A_datagram_from_the_listeners_own_port_is_refused_so_two_echo_servers_cannot_loop()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener());
        // Another host's echo listener on the same port number: 127.0.0.2 is loopback too.
        using var peerEcho = UdpTestSockets.Bind(IPAddress.Parse("127.0.0.2"), host.UdpEndPoint().Port);

        await AssertDroppedAsync(host, peerEcho, "from another echo server"u8.ToArray());

        Assert.Equal(1, host.UdpStats("UdpEcho").Dropped(UdpDropReason.DeniedPort));
    }

    [Fact]
    public async Task A_datagram_over_MaxDatagramBytes_is_dropped_never_truncated()
    {
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?> { ["MaxDatagramBytes"] = "100" }));
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);

        await AssertDroppedAsync(host, client, new byte[101]);
        var largest = new byte[100];
        Random.Shared.NextBytes(largest);

        Assert.Equal(largest, await client.EchoAsync(host.UdpEndPoint(), largest));
        Assert.Equal(1, host.UdpStats("UdpEcho").Dropped(UdpDropReason.TooLarge));
    }

    [Fact]
    public async Task A_flooding_source_gets_at_most_its_allowance_while_another_source_is_answered()
    {
        const int perSecond = 20;
        const int rounds = 30;
        const int floodPerRound = 100;
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            ["PerSourceDatagramsPerSecond"] = perSecond.ToString(),
        }));
        var server = host.UdpEndPoint();
        using var flooder = UdpTestSockets.Bind(IPAddress.Loopback);
        using var other = UdpTestSockets.Bind(IPAddress.Parse("127.0.0.2"));
        var payload = "flood"u8.ToArray();

        var flood = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < floodPerRound; i++)
            {
                flooder.SendTo(payload, server);
            }

            // Paced by the other source's round trips, so no datagram is lost in the kernel before the server reads it.
            var probe = BitConverter.GetBytes(round);
            Assert.Equal(probe, await other.EchoAsync(server, probe));
        }

        flood.Stop();

        // A bound, not a timing assertion: a slower run only allows more.
        var allowance = (2 * perSecond) + (perSecond * flood.Elapsed.TotalSeconds);
        var stats = await host.UdpStats("UdpEcho").SettledAsync();
        var answeredToFlooder = stats.DatagramsSent - rounds;
        Assert.InRange(answeredToFlooder, 1, (long)Math.Ceiling(allowance));
        Assert.Equal((rounds * floodPerRound) - answeredToFlooder, stats.Dropped(UdpDropReason.RateLimited));
        Assert.InRange(flooder.DrainQueued(), 1, answeredToFlooder);
    }

    [Fact]
    public async Task Drops_are_summarised_by_reason_in_a_few_log_lines_not_one_per_datagram()
    {
        using var denied = UdpTestSockets.Bind(IPAddress.Loopback);
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            ["DenySourcePorts:0"] = denied.LocalPort().ToString(),
            ["MaxDatagramBytes"] = "10",
        }));
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);
        for (var i = 0; i < 20; i++)
        {
            denied.SendTo("x"u8, host.UdpEndPoint());
            client.SendTo(new byte[11], host.UdpEndPoint());
        }

        Assert.Equal(Probe, await client.EchoAsync(host.UdpEndPoint(), Probe));

        static bool IsSummary(CapturedLog e) => e.Level == LogLevel.Information && e.Message.StartsWith("UdpEcho dropped ", StringComparison.Ordinal);
        var first = await host.Logs.WaitForAsync(IsSummary);
        Assert.Matches(@"^UdpEcho dropped \d+ datagrams in the last [\d.]+s: denied_port \d+, bad_source 0, too_large \d+, rate_limited 0$", first.Message);

        // Stopping flushes what the periodic line has not reported yet; together they count every drop once.
        await host.StopAsync();
        var summaries = host.Logs.Entries.Where(IsSummary).ToList();
        Assert.InRange(summaries.Count, 1, 2);
        Assert.Equal(20L, summaries.Sum(e => (long)e.State["DeniedPort"]!));
        Assert.Equal(20L, summaries.Sum(e => (long)e.State["TooLarge"]!));
        Assert.Equal(40L, summaries.Sum(e => (long)e.State["Dropped"]!));
    }

    /// <summary>Sends <paramref name="datagram"/> from <paramref name="source"/>, then proves no reply came back.</summary>
    private static async Task AssertDroppedAsync(TestHost host, Socket source, byte[] datagram)
    {
        using var prober = UdpTestSockets.Bind(IPAddress.Loopback);
        await source.SendToAsync(datagram, SocketFlags.None, host.UdpEndPoint(), TestTimeouts.Token());

        Assert.Equal(Probe, await prober.EchoAsync(host.UdpEndPoint(), Probe));
        Assert.Equal(0, source.DrainQueued());
    }
}
