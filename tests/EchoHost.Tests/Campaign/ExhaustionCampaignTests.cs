using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// Resource exhaustion under the shipped container limits: echo clients that send and never read, up to the per-IP
/// cap and beyond from more addresses, with the GC heap capped as in the Kubernetes base (512 Mi limit, so a 384 MiB
/// heap); and idle HTTP connections from many addresses under a 1024 open-file limit. The host must never die or wedge:
/// it refuses with a reason, serves what it has, and recovers once the clients leave.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class ExhaustionCampaignTests(ITestOutputHelper output)
{
    /// <summary>The GC heap limit the runtime sets itself in the shipped Kubernetes base: 75 % of its 512 Mi memory limit.</summary>
    private const string ShippedHeapHardLimit = "0x18000000";

    /// <summary>The shipped per-IP cap of the echo listener (appsettings.json).</summary>
    private const int ShippedPerIp = 1_000;

    [Fact]
    public async Task Non_readers_up_to_the_per_ip_cap_and_from_more_addresses_never_take_the_host_down()
    {
        await using var server = await CampaignServer.StartAsync(new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = ShippedHeapHardLimit });
        var idle = await server.WarmUpAsync();
        var perAddress = CampaignRun.Size(100, ShippedPerIp);
        var addresses = CampaignRun.Size(1, 10);

        var held = new List<Socket>();
        var refused = 0;
        for (var a = 0; a < addresses && refused == 0 && !server.Process.HasExited; a++)
        {
            var from = IPAddress.Parse($"127.0.0.{2 + a}");
            var fromThis = 0;
            while (fromThis < perAddress && refused == 0 && !server.Process.HasExited)
            {
                var batch = await Exhaustion.OpenNonReadersAsync(server.Echo, from, Math.Min(50, perAddress - fromThis));
                held.AddRange(batch.Held);
                fromThis += batch.Held.Count + batch.Closed;
                refused += batch.Closed;
            }

            if (a == 0 && !server.Process.HasExited)
            {
                // One address up to its cap fits the shipped limits with room to spare: nobody was refused for memory.
                var stats = ProcessStats.Of(server.Process.Id);
                output.WriteLine($"idle: {idle}; {held.Count} non-readers from one address: {stats}, " +
                    $"{(stats.RssBytes - idle.RssBytes) / Math.Max(1, held.Count) / 1024} KiB each");
                Assert.Equal(0, refused);
            }
        }

        output.WriteLine($"{held.Count} non-readers held, {refused} refused: " +
            (server.Process.HasExited ? "exited" : ProcessStats.Of(server.Process.Id).ToString()));
        Assert.False(server.Process.HasExited, $"EchoHost died with {held.Count} non-readers:\n{server.Process.StandardError}");
        Assert.DoesNotContain("Out of memory", server.Process.StandardError);

        held.ForEach(s => s.Dispose());
        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Long), "no echo once the non-readers left");
        Assert.True(await Exhaustion.HttpAnswersWithinAsync(server.HttpBase, "healthz", TestTimeouts.Default));
    }

    [Fact]
    public async Task Idle_http_connections_from_many_addresses_under_a_1024_descriptor_limit_never_wedge_the_host()
    {
        await using var server = await CampaignServer.StartAsync(launcher: ["prlimit", "--nofile=1024:1024", "--"]);
        await server.WarmUpAsync();
        var http = new IPEndPoint(IPAddress.Loopback, server.HttpBase.Port);
        var addresses = CampaignRun.Size(3, 20);

        var open = new List<Socket>();
        var refusedAddresses = 0;
        for (var a = 0; a < addresses && !server.Process.HasExited; a++)
        {
            var (fromThis, refused) = await Exhaustion.OpenIdleUntilRefusedAsync(http, IPAddress.Parse($"127.0.0.{2 + a}"), 150);
            open.AddRange(fromThis);
            refusedAddresses += refused ? 1 : 0;
        }

        output.WriteLine($"{open.Count} idle HTTP connections held from {addresses} addresses, {refusedAddresses} addresses refused; " +
            (server.Process.HasExited ? "exited" : ProcessStats.Of(server.Process.Id).ToString()));
        try
        {
            Assert.False(server.Process.HasExited, $"EchoHost died:\n{server.Process.StandardError}");
            Assert.Equal(addresses, refusedAddresses);

            // What it holds is still served: a request on one of the idle connections is answered.
            var first = open[0];
            await first.SendAllAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.True(await first.ReceiveAsync(new byte[1024], SocketFlags.None, TestTimeouts.Token()) > 0);
            if (!CampaignRun.Long)
            {
                // Within the descriptor limit (3 addresses at their cap), nothing else is affected.
                Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TimeSpan.FromSeconds(10)), "echo stopped answering");
                Assert.True(await Exhaustion.HttpAnswersWithinAsync(server.HttpBase, "healthz", TimeSpan.FromSeconds(10)), "/healthz stopped answering");
            }
        }
        finally
        {
            open.ForEach(s => s.Dispose());
        }

        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Default), "no echo once the idle connections closed");
        Assert.True(await Exhaustion.HttpAnswersWithinAsync(server.HttpBase, "healthz", TestTimeouts.Default), "no /healthz once the idle connections closed");
        var metrics = PrometheusSamples.Parse(await server.MetricsTextAsync());
        Assert.True(metrics.Value("echohost_connections_refused_total", ("echohost_listener", "Http"), ("reason", "per_ip")) > 0);
        Assert.DoesNotContain("Out of memory", server.Process.StandardError);
    }
}
