using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// Issue 26, item 9: many connections, each within the shipped flood control, aim bursts of private messages at one
/// user who reads slowly (100 KB/s; 1 MB/s in the long run), to get it cut as a slow reader and take its nick. The user
/// stays, its nick stays its own, and every message is either delivered or refused to its sender with a notice.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class TargetedFloodCampaignTests
{
    private const string NotKeepingUp = "!!! victim is not keeping up; message not delivered.";

    [Fact]
    public async Task Private_message_bursts_from_many_connections_cannot_cut_a_slow_reader_or_take_its_nick()
    {
        // Enough that one burst each is more than the kernel buffers for the victim (megabytes on loopback) and its queue.
        var attackers = CampaignRun.Size(150, 500);
        var bursts = CampaignRun.Size(1, 3);
        var readPerTenthOfASecond = CampaignRun.Size(10, 100) * 1024;
        const int linesPerBurst = 19; // and a /who: the shipped FloodBurst of 20
        await using var server = await CampaignServer.StartAsync();

        var socket = new Socket(server.Chat.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 8192 };
        await socket.ConnectAsync(server.Chat, TestTimeouts.Token());
        using var victim = new NetworkStream(socket, ownsSocket: true);
        await victim.WriteAsync(Encoding.UTF8.GetBytes("/nick victim\n"), TestTimeouts.Token());
        var received = new MemoryStream();
        using var stopPacing = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[readPerTenthOfASecond];
            while (!stopPacing.IsCancellationRequested)
            {
                var read = await victim.ReadAsync(buffer, TestTimeouts.Token());
                if (read == 0)
                {
                    return false;
                }

                received.Write(buffer, 0, read);
                await Task.Delay(100, CancellationToken.None);
            }

            return true;
        });

        var clients = new List<ChatClient>();
        for (var i = 0; i < attackers; i++)
        {
            clients.Add(await ChatClient.ConnectAsync(server.Chat));
        }

        var text = new string('x', 1900);
        var burst = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"/msg victim {text}\n", linesPerBurst)) + "/who\n");
        var heard = await Task.WhenAll(clients.Select(async c =>
        {
            var lines = new List<string>();
            for (var round = 0; round < bursts; round++)
            {
                if (round > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(4)); // the allowance refills
                }

                var answered = c.ReadUntilAsync(l => l.StartsWith("*** lobby (", StringComparison.Ordinal));
                await c.SendRawAsync(burst);
                lines.AddRange(await answered);
            }

            return lines;
        }));

        var delivered = heard.Sum(lines => lines.Count(l => l.StartsWith("[msg to victim] ", StringComparison.Ordinal)));
        var refused = heard.Sum(lines => lines.Count(l => l == NotKeepingUp));
        Assert.Equal(attackers * bursts * linesPerBurst, delivered + refused);
        Assert.True(refused > 0, "no sender was refused: the attack did not reach the bound");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a flood-control token for one more line
        Assert.Equal("!!! Cannot use nick 'victim': it is taken.", await clients[0].AskNickAsync("victim"));

        // The victim is still connected and, reading at full speed now, gets every delivered message before its own answer.
        await stopPacing.CancelAsync();
        Assert.True(await reading, "the victim was disconnected");
        await victim.WriteAsync(Encoding.UTF8.GetBytes("/who\n"), TestTimeouts.Token());
        var rest = new byte[64 * 1024];
        while (!Tail(received).Contains("\r\n*** lobby (", StringComparison.Ordinal))
        {
            var read = await victim.ReadAsync(rest, TestTimeouts.Token());
            Assert.NotEqual(0, read);
            received.Write(rest, 0, read);
        }

        var all = Encoding.UTF8.GetString(received.ToArray());
        Assert.Equal(delivered, all.Split("\r\n").Count(l => l.StartsWith("[msg from ", StringComparison.Ordinal)));
        Assert.DoesNotContain("You are not reading fast enough", all);
        clients.ForEach(c => c.Dispose());
    }

    private static string Tail(MemoryStream received)
    {
        var start = (int)Math.Max(0, received.Length - 8192);
        return Encoding.UTF8.GetString(received.GetBuffer(), start, (int)received.Length - start);
    }
}
