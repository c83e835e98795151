using System.Diagnostics;
using System.Globalization;
using System.Text;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Chat.Backplane;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// The issue's fan-out attack on two instances sharing one real PostgreSQL: one address with many users (999 in the
/// long run), all within flood control, sends a burst of 20 lines each at once, or lines at the flood rate for a
/// while (10 s in the long run), while a bystander says ten lines. The
/// promise of docs/scaling-out.md, "a message reaches every other user once", is checked for users on the other instance: every
/// line arrives there, once, in each sender's order, and nothing is left unpublished.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(PostgresCollection))]
public sealed class BackplaneFanoutCampaignTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int LinesEach = 20;
    private const int RoomSize = 10;

    [PostgresFact]
    public Task A_burst_from_one_address_reaches_every_user_on_the_other_instance_once_and_a_bystander_loses_nothing() =>
        RunAsync(CampaignRun.Size(100, 999), Enumerable.Range(1, LinesEach).Select(j => $"b{j}").ToList(), spacing: TimeSpan.Zero);

    /// <summary>The issue's sustained load: every user at flood control's rate, 5 lines a second.</summary>
    [PostgresFact]
    public Task Lines_at_the_flood_rate_from_one_address_reach_every_user_on_the_other_instance_once() =>
        RunAsync(CampaignRun.Size(100, 999), Enumerable.Range(1, 5 * CampaignRun.Size(2, 10)).Select(j => $"s{j}").ToList(), spacing: TimeSpan.FromMilliseconds(200));

    /// <summary>
    /// <paramref name="users"/> on A, ten to a room, each says <paramref name="lines"/> (all at once, or one every
    /// <paramref name="spacing"/>), and alice ten lines meanwhile; a listener per room and bob on B check what crossed.
    /// </summary>
    private async Task RunAsync(int users, IReadOnlyList<string> lines, TimeSpan spacing)
    {
        var rooms = (users + RoomSize - 1) / RoomSize;
        var database = await postgres.CreateDatabaseAsync();
        // All of them from 127.0.0.1: the per-IP cap is not what is under test here.
        await using var a = await StartInstanceAsync(database);
        await using var b = await StartInstanceAsync(database);
        using var alice = await BackplaneFanoutTests.JoinAsAsync(a, "alice");
        using var bob = await BackplaneFanoutTests.JoinAsAsync(b, "bob");

        // On B, one listener per room; on A, the senders, ten to a room (a room of 999 would make the test's own
        // reading the bottleneck: what crosses is the same).
        var listeners = await ConnectAsync(b, rooms, i => $"r{i}");
        var senders = await ConnectAsync(a, users, i => $"r{i % rooms}");
        output.WriteLine($"{users} users on A in {rooms} rooms, {rooms} listeners on B");

        var clock = Stopwatch.StartNew();
        var burst = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        var sending = senders.Select(async (s, i) =>
        {
            if (spacing == TimeSpan.Zero)
            {
                await s.SendRawAsync(burst);
                return;
            }

            // Spread over the interval, as users are.
            await Task.Delay(spacing * i / users);
            foreach (var line in lines)
            {
                await s.SendAsync(line);
                await Task.Delay(spacing);
            }
        }).ToList();
        for (var i = 1; i <= 10; i++)
        {
            await alice.SendAsync($"bystander {i}");
            await Task.Delay(spacing * lines.Count / 10);
        }

        await alice.SendAsync("done");
        await Task.WhenAll(sending);

        // The first sender of each room, once it has seen every other line of its room (so all were said on A), says a
        // last line: everything of the room is queued before it, on one writer and one NOTIFY stream.
        var firsts = Enumerable.Range(0, rooms).Select(r => senders[r]).ToList();
        await Task.WhenAll(firsts.Select(async (first, r) =>
        {
            var others = (Enumerable.Range(0, users).Count(i => i % rooms == r) - 1) * lines.Count;
            for (var seen = 0; seen < others;)
            {
                if ((await first.ReadLineAsync()).StartsWith('<'))
                {
                    seen++;
                }
            }

            await first.SendAsync("marker");
        }));

        var received = await Task.WhenAll(listeners.Select(async (listener, r) =>
            (await listener.ReadUntilAsync(l => l == $"<{firsts[r].Nick}> marker")).Where(l => l.StartsWith('<')).ToList()));
        output.WriteLine($"{users * lines.Count} lines crossed in {clock.Elapsed.TotalSeconds:F1} s");
        var samplesA = await a.ScrapeAsync();
        var samplesB = await b.ScrapeAsync();
        var unpublished = samplesA.All.Where(s => s.Name == "echohost_chat_backplane_unpublished_total").Sum(s => s.Value);
        output.WriteLine($"A published {samplesA.Value("echohost_chat_backplane_published_total")}, unpublished {unpublished}; B received {samplesB.Value("echohost_chat_backplane_received_total")}");
        foreach (var entry in a.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Category.Contains("Backplane", StringComparison.Ordinal)))
        {
            output.WriteLine($"A: {entry.Message}");
        }

        var bystander = await bob.ReadUntilAsync(l => l == "<alice> done");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"<alice> bystander {i}"), bystander.Where(l => l.StartsWith("<alice>", StringComparison.Ordinal)));
        for (var r = 0; r < rooms; r++)
        {
            var roomSenders = Enumerable.Range(0, users).Where(i => i % rooms == r).Select(i => senders[i].Nick).ToList();
            Assert.Equal(roomSenders.Count * lines.Count, received[r].Count);
            foreach (var nick in roomSenders)
            {
                Assert.Equal(lines, received[r].Where(l => l.StartsWith($"<{nick}> ", StringComparison.Ordinal)).Select(l => l[(nick.Length + 3)..]));
            }
        }

        Assert.Equal(0, unpublished);
        foreach (var client in senders.Concat(listeners))
        {
            client.Dispose();
        }
    }

    // Within flood control: a burst of 20 and the /join before it.
    private static Task<TestHost> StartInstanceAsync(string database) => BackplaneFanoutTests.StartInstanceAsync(database, floodBurst: LinesEach + 1, extra: new()
    {
        ["EchoHost:Listeners:Chat:MaxConnectionsPerIp"] = "0",
        ["EchoHost:Chat:MaxRooms"] = "2000",
    });

    /// <summary><paramref name="count"/> guests on <paramref name="host"/>, user i in room <paramref name="room"/>(i).</summary>
    private static async Task<List<ChatClient>> ConnectAsync(TestHost host, int count, Func<int, string> room)
    {
        var clients = new ChatClient[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var client = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
                var name = room(i);
                await client.SendAsync($"/join {name}");
                await client.ReadUntilAsync(l => l.StartsWith($"*** You are now in {name} ", StringComparison.Ordinal));
                clients[i] = client;
            }
        })));
        return [.. clients];
    }
}
