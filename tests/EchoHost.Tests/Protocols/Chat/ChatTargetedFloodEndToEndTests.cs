using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// Issue 26, item 9, over real sockets: many connections, each within flood control, aim private messages at one user
/// who reads slowly, to get it cut as a slow reader and take its nick.
/// </summary>
public sealed class ChatTargetedFloodEndToEndTests
{
    private const string SlowReaderLog = "disconnected as a slow reader";

    private static Task<TestHost> StartChatAsync(int maxQueuedBytes) => TestHost.StartAsync(new Dictionary<string, string?>
    {
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
        // Many connections each inside flood control is the attack; one sender's allowance is not what is tested.
        ["EchoHost:Chat:FloodBurst"] = "100000",
        ["EchoHost:Chat:FloodLinesPerSecond"] = "100000",
        ["EchoHost:Chat:HistorySize"] = "0",
        ["EchoHost:Chat:MaxQueuedBytes"] = maxQueuedBytes.ToString(),
    });

    [Fact]
    public async Task Private_messages_to_a_user_who_does_not_keep_up_are_refused_to_their_senders_and_the_user_stays()
    {
        // Enough to fill what the kernel buffers for a reader that stopped (megabytes on loopback) and the queue; spread
        // over enough attackers that the echo of their own messages never makes one of them a slow reader.
        const int attackers = 30, messagesEach = 100;
        // The shipped queue (the private bound is a quarter of it): room for the attackers' own echoes while they read.
        await using var host = await StartChatAsync(maxQueuedBytes: 262_144);
        var endPoint = host.EndPoint("Chat");
        using var victim = await SlowChatUser.ConnectAsync(endPoint);
        await victim.SendAsync("/nick victim");
        await host.Logs.WaitForAsync(e => e.Message.EndsWith(" is now victim", StringComparison.Ordinal));
        var clients = new List<ChatClient>();
        for (var i = 0; i < attackers; i++)
        {
            clients.Add(await ChatClient.ConnectAsync(endPoint));
        }

        // Each attacker reads all along (it is not the one to be cut) while it sends its burst, then syncs with /who.
        var text = new string('x', 2000);
        var burst = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"/msg victim {text}\n", messagesEach)) + "/who\n");
        var heard = await Task.WhenAll(clients.Select(async c =>
        {
            var reading = c.ReadUntilAsync(IsWhoAnswer);
            await c.SendRawAsync(burst);
            return await reading;
        }));

        // Every message was delivered or refused to its sender, and the victim was never cut.
        var delivered = heard.Sum(lines => lines.Count(l => l.StartsWith("[msg to victim] ", StringComparison.Ordinal)));
        var refused = heard.Sum(lines => lines.Count(l => l == "!!! victim is not keeping up; message not delivered."));
        Assert.Equal(attackers * messagesEach, delivered + refused);
        Assert.InRange(refused, 1, attackers * messagesEach);
        Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains(SlowReaderLog));
        Assert.Equal("!!! Cannot use nick 'victim': it is taken.", await clients[0].AskNickAsync("victim"));
        // The victim is still connected, and gets every message that was delivered before its own answer.
        await victim.SendAsync("/who");
        var received = await victim.ReadUntilAsync(IsWhoAnswer);
        Assert.Equal(delivered, received.Count(l => l.StartsWith("[msg from ", StringComparison.Ordinal)));
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task After_a_cut_the_nick_is_held_from_others_and_the_same_address_takes_it_back()
    {
        await using var host = await StartChatAsync(maxQueuedBytes: 16_384);
        var endPoint = host.EndPoint("Chat");
        var victimAddress = IPAddress.Parse("127.0.0.2");
        using var victim = await SlowChatUser.ConnectAsync(endPoint, victimAddress);
        await victim.SendAsync("/nick victim");
        await host.Logs.WaitForAsync(e => e.Message.EndsWith(" is now victim", StringComparison.Ordinal));

        // A room flood (which cuts a slow reader: the room is as busy for everyone in it) until the victim is cut.
        using var flooder = await ChatClient.ConnectAsync(endPoint);
        var burst = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(new string('f', 1500) + "\n", 500)));
        for (var round = 0; round < 40 && !host.Logs.Entries.Any(e => e.Message.Contains(SlowReaderLog)); round++)
        {
            await flooder.SendRawAsync(burst);
            await flooder.SyncAsync();
        }

        var cut = await host.Logs.WaitForAsync(e => e.Message.Contains(SlowReaderLog));
        using var attacker = await ChatClient.ConnectAsync(endPoint);
        // The room may say something first (the cut user leaving): the answer is the first "!!!" or "*** You are" line.
        Assert.Equal("!!! Cannot use nick 'victim': it is taken.", await attacker.AskNickAsync("victim"));
        // The log says what was queued: the bytes waiting and the line that did not fit, over the limit together.
        Assert.True((long)cut.State["QueuedBytes"]! + (int)cut.State["LineBytes"]! > 16_384);

        using var back = await SlowChatUser.ConnectAsync(endPoint, victimAddress);
        await back.SendAsync("/nick victim");
        await back.ReadUntilAsync(l => l == "*** You are now known as victim");
    }

    private static bool IsWhoAnswer(string line) => line.StartsWith("*** lobby (", StringComparison.Ordinal);
}
