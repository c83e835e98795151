using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// Many connections held at once, and many opened and closed, against the built binary with the shipped limits:
/// everything is echoed, readiness holds, and files, threads and memory come back when the clients go.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
[CollectionDefinition(nameof(ScaleCampaignTests), DisableParallelization = true)]
public sealed class ScaleCampaignTests(ITestOutputHelper output)
{
    private static readonly (string, string)[] EchoListener = [("echohost_listener", "Echo"), ("echohost_protocol", "echo")];

    [Fact]
    public async Task Held_connections_all_echo_while_a_hundred_keep_talking_and_readiness_holds_then_everything_is_given_back()
    {
        var held = CampaignRun.Size(2_000, 10_000);
        var sources = CampaignRun.Size(4, 16);
        var rounds = CampaignRun.Size(20, 200);
        await using var server = await CampaignServer.StartAsync();
        var idle = await server.WarmUpAsync();
        output.WriteLine($"idle: {idle}");

        using var stopProbing = new CancellationTokenSource();
        var readiness = server.ProbeReadinessAsync(stopProbing.Token);

        // From several loopback addresses, so the shipped per-IP cap (1000) stays on.
        var sockets = await ConnectManyAsync(server.Echo, held, i => IPAddress.Parse($"127.0.0.{1 + (i % sources)}"));
        var holding = ProcessStats.Of(server.Process.Id);
        output.WriteLine($"holding {held}: {holding}; {(holding.RssBytes - idle.RssBytes) / held} bytes of RSS per held connection");
        Assert.Equal(held, await server.ActiveConnectionsAsync());

        await Task.WhenAll(sockets.Take(100).Select(async socket =>
        {
            for (var round = 0; round < rounds; round++)
            {
                await socket.AssertEchoesAsync($"round {round}\n");
            }
        }));

        await stopProbing.CancelAsync();
        var (probes, failures) = await readiness;
        Assert.True(probes > 0);
        Assert.Equal(0, failures);

        sockets.ForEach(s => s.Dispose());
        await server.WaitUntilNoConnectionsAsync();
        var after = await server.SettledAsync(idle.OpenFiles + 20);
        output.WriteLine($"released: {after}");
        Assert.InRange(after.OpenFiles, 0, idle.OpenFiles + 20);
        Assert.InRange(after.Threads, 0, idle.Threads + 20);
    }

    [Fact]
    public async Task Connect_echo_close_cycles_leave_no_files_threads_or_memory_behind()
    {
        var cycles = CampaignRun.Size(5_000, 100_000);
        await using var server = await CampaignServer.StartAsync();
        var idle = await server.WarmUpAsync();

        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= cycles)
            {
                using var socket = await SocketExtensions.ConnectAsync(server.Echo);
                await socket.AssertEchoesAsync();
                socket.Shutdown(SocketShutdown.Send);
                Assert.True(await socket.WaitForServerCloseAsync());
            }
        })));

        await server.WaitUntilNoConnectionsAsync();
        var after = await server.SettledAsync(idle.OpenFiles + 20);
        output.WriteLine($"idle: {idle}; after {cycles} cycles: {after}");
        Assert.InRange(after.OpenFiles, 0, idle.OpenFiles + 20);
        Assert.InRange(after.Threads, 0, idle.Threads + 20);
        // Generous: the GC keeps what it likes, but a per-connection leak at this count would show.
        Assert.InRange(after.RssBytes, 0, idle.RssBytes + (64L << 20));
    }

    private static async Task<List<Socket>> ConnectManyAsync(IPEndPoint endPoint, int count, Func<int, IPAddress> from)
    {
        var sockets = new Socket[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                sockets[i] = await SocketExtensions.ConnectAsync(endPoint, from(i));
                await sockets[i].AssertEchoesAsync();
            }
        })));
        return [.. sockets];
    }
}
