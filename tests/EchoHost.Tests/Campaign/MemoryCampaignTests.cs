using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

/// <summary>Clients that never read: they cannot make the server buffer for them, and they stay under its limits.</summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class MemoryCampaignTests(ITestOutputHelper output)
{
    private const long MaxGrowth = 64L << 20;

    [Fact]
    public async Task Echo_clients_that_send_and_never_read_are_held_back_not_buffered_and_stay_counted()
    {
        var clients = CampaignRun.Size(4, 16);
        var perClient = (1L << 30) / clients;
        await using var server = await CampaignServer.StartAsync();
        var idle = await server.WarmUpAsync();

        var pushed = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => SendUntilHeldBack(server, perClient))));
        var sent = pushed.Select(p => p.Sent).ToList();
        var pushing = ProcessStats.Of(server.Process.Id);
        output.WriteLine($"idle: {idle}; {sent.Sum() >> 20} MiB sent by {clients} clients that never read: {pushing}");

        Assert.All(sent, s => Assert.InRange(s, 1, perClient - 1)); // each was held back before it could send its share
        Assert.InRange(pushing.RssBytes - idle.RssBytes, long.MinValue, MaxGrowth);
        // Still open, so still counted against the limits.
        Assert.Equal(clients, await server.ActiveConnectionsAsync());
        Array.ForEach(pushed, p => p.Socket.Dispose());
    }

    [Fact]
    public async Task A_chat_user_who_never_reads_is_cut_at_its_queue_limit_and_costs_no_more()
    {
        await using var server = await CampaignServer.StartAsync(new Dictionary<string, string>
        {
            ["EchoHost__Chat__FloodBurst"] = "100000",
            ["EchoHost__Chat__FloodLinesPerSecond"] = "100000",
        });
        var idle = await server.WarmUpAsync();
        using var silent = new Socket(server.Chat.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await silent.ConnectAsync(server.Chat);
        using var talker = await ChatClient.ConnectAsync(server.Chat);

        // 2 KiB lines until the silent user's queue (256 KiB) and every buffer on the way are full many times over.
        var line = new string('x', 2000);
        var lines = CampaignRun.Size(2_000, 20_000);
        for (var i = 0; i < lines; i++)
        {
            await talker.SendAsync(line);
        }

        await talker.SyncAsync();
        await server.Process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex(@"disconnected as a slow reader"));
        var after = ProcessStats.Of(server.Process.Id);
        output.WriteLine($"idle: {idle}; after {lines} lines of 2000 bytes to a user who never reads: {after}");
        Assert.InRange(after.RssBytes - idle.RssBytes, long.MinValue, MaxGrowth);
        Assert.True(await silent.WaitForServerCloseAsync());
    }

    /// <summary>Sends zeros without reading until a send makes no progress for a few seconds; the socket stays open.</summary>
    private static (Socket Socket, long Sent) SendUntilHeldBack(CampaignServer server, long limit)
    {
        var socket = new Socket(server.Echo.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendTimeout = 3000 };
        socket.Connect(server.Echo);
        var chunk = new byte[64 * 1024];
        long sent = 0;
        try
        {
            while (sent < limit)
            {
                sent += socket.Send(chunk);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            // Held back: the server stopped reading because its echo cannot be delivered.
        }

        return (socket, sent);
    }
}
