using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// Connections that trickle a byte every so often and connections that send nothing, as a public instance gets:
/// the idle timeout closes the silent ones, the per-IP cap bounds what one address holds, and everyone else is served.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class SlowAndSilentCampaignTests
{
    [Fact]
    public async Task Idle_timeout_and_per_ip_cap_keep_the_server_healthy_under_slow_and_silent_clients()
    {
        var each = CampaignRun.Size(200, 1_000);
        const int perIpCap = 150;
        await using var server = await CampaignServer.StartAsync(new Dictionary<string, string>
        {
            ["EchoHost__Listeners__Echo__IdleTimeout"] = "00:00:03",
            ["EchoHost__Listeners__Echo__MaxConnectionsPerIp"] = perIpCap.ToString(),
        });
        await server.WarmUpAsync();
        using var stopProbing = new CancellationTokenSource();
        var readiness = server.ProbeReadinessAsync(stopProbing.Token);

        // Silent clients: more from one address than the cap allows, so some are refused at once.
        var silentFrom = IPAddress.Parse("127.0.0.2");
        var silent = new List<Socket>();
        for (var i = 0; i < perIpCap + 50; i++)
        {
            silent.Add(await SocketExtensions.ConnectAsync(server.Echo, silentFrom));
        }

        // Trickling clients, from addresses of their own, one byte a second: never idle for the timeout.
        var trickling = new List<Socket>();
        for (var i = 0; i < each; i++)
        {
            trickling.Add(await SocketExtensions.ConnectAsync(server.Echo, IPAddress.Parse($"127.0.1.{1 + (i % 100)}")));
        }

        var rounds = CampaignRun.Size(5, 30);
        for (var round = 0; round < rounds; round++)
        {
            await Task.WhenAll(trickling.Select(async s =>
            {
                await s.SendAllAsync(new byte[] { (byte)'.' });
                Assert.Equal(".", System.Text.Encoding.ASCII.GetString(await s.ReceiveExactlyAsync(1)));
            }));

            // A newcomer is served while all of that goes on.
            using (var fresh = await SocketExtensions.ConnectAsync(server.Echo))
            {
                await fresh.AssertEchoesAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        // Every silent connection is closed by the server: the extra ones at once, the rest by the idle timeout.
        var closed = await Task.WhenAll(silent.Select(s => s.WaitForServerCloseAsync()));
        Assert.All(closed, Assert.True);
        Assert.Equal(50, await CountLinesAsync(server, "per-IP limit reached", 50));
        Assert.Equal(perIpCap, await CountLinesAsync(server, "closed (idle timeout)", perIpCap));

        // The trickling ones are all still open and served.
        await Task.WhenAll(trickling.Select(s => s.AssertEchoesAsync()));
        await stopProbing.CancelAsync();
        var (probes, failures) = await readiness;
        Assert.True(probes > 0);
        Assert.Equal(0, failures);
        silent.ForEach(s => s.Dispose());
        trickling.ForEach(s => s.Dispose());
    }

    /// <summary>How many log lines contain <paramref name="text"/>, once <paramref name="expected"/> have arrived (or the hang guard passed).</summary>
    private static async Task<int> CountLinesAsync(CampaignServer server, string text, int expected)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        int Count() => server.Process.StandardOutput.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
        while (Count() < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return Count();
    }
}
