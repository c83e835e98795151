using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Campaign;

/// <summary>Request–response and bulk clients at once, each half-closing at the end: every byte comes back, in order.</summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class NothingLostCampaignTests
{
    [Fact]
    public async Task Concurrent_pingpong_and_stream_clients_get_every_byte_back_with_no_truncation()
    {
        var pingpongClients = CampaignRun.Size(32, 128);
        var streamClients = CampaignRun.Size(16, 64);
        var exchanges = CampaignRun.Size(200, 2_000);
        await using var server = await CampaignServer.StartAsync();

        var pingpong = Enumerable.Range(0, pingpongClients).Select(i => Task.Run(async () =>
        {
            var random = new Random(CampaignRun.Seed + i);
            using var socket = await SocketExtensions.ConnectAsync(server.Echo);
            for (var n = 0; n < exchanges; n++)
            {
                var message = new byte[random.Next(1, 4096)];
                random.NextBytes(message);
                await socket.SendAllAsync(message);
                var echoed = await socket.ReceiveExactlyAsync(message.Length);
                Assert.True(message.SequenceEqual(echoed), $"pingpong {i}, exchange {n}, seed {CampaignRun.Seed}");
            }

            socket.Shutdown(SocketShutdown.Send);
            Assert.Empty(await socket.ReceiveToEndAsync());
        }));

        var stream = Enumerable.Range(0, streamClients).Select(i => Task.Run(async () =>
        {
            var random = new Random(CampaignRun.Seed + 10_000 + i);
            var payload = new byte[random.Next(1, CampaignRun.Size(4, 32) << 20)];
            random.NextBytes(payload);
            using var socket = await SocketExtensions.ConnectAsync(server.Echo);
            var receiving = socket.ReceiveToEndAsync(TestTimeouts.Long);
            await socket.SendAllAsync(payload);
            socket.Shutdown(SocketShutdown.Send);
            var back = await receiving;
            Assert.Equal(payload.Length, back.Length);
            Assert.True(payload.SequenceEqual(back), $"stream {i} of {payload.Length} bytes, seed {CampaignRun.Seed}");
        }));

        await Task.WhenAll([.. pingpong, .. stream]);
        await server.WaitUntilNoConnectionsAsync();
    }
}
