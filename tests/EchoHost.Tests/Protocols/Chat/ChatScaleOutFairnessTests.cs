using System.Net;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// Issue 26 across instances (two in-process hosts on one real PostgreSQL): a nick that looks like one taken on
/// another instance is taken too (item 11), and the nick of a user cut as a slow reader stays held on every instance
/// until its hold ends (item 9).
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class ChatScaleOutFairnessTests(PostgresServer postgres)
{
    private static async Task<TestHost> StartInstanceAsync(string database, Dictionary<string, string?>? extra = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Chat:Postgres"] = database,
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        var host = await TestHost.StartAsync(config);
        await host.Logs.WaitForAsync(e => e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        return host;
    }

    /// <summary>Asks for <paramref name="nick"/>; returns the answer, skipping notices from the other instance.</summary>
    [PostgresFact]
    public async Task A_look_alike_of_a_nick_on_another_instance_is_taken_and_free_once_its_owner_leaves()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartInstanceAsync(database);
        await using var b = await StartInstanceAsync(database);
        using var alice = await ChatClient.ConnectAsync(a.EndPoint("Chat"));
        Assert.Equal("*** You are now known as alice", await alice.AskNickAsync("alice"));
        using var other = await ChatClient.ConnectAsync(b.EndPoint("Chat"));

        Assert.Equal("!!! Cannot use nick 'a1ice': it is taken.", await other.AskNickAsync("a1ice"));
        Assert.Equal("!!! Cannot use nick 'aIice': it is taken.", await other.AskNickAsync("aIice"));
        Assert.Equal("!!! Cannot use nick 'alice.': it is taken.", await other.AskNickAsync("alice."));

        await alice.SendAsync("/quit");
        await other.ReadUntilAsync(l => l == "*** alice left lobby (quit)");
        Assert.Equal("*** You are now known as a1ice", await other.AskNickAsync("a1ice"));
    }

    [PostgresFact]
    public async Task A_cut_users_nick_is_held_on_every_instance_until_its_hold_ends()
    {
        var database = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["EchoHost:Chat:FloodBurst"] = "100000",
            ["EchoHost:Chat:FloodLinesPerSecond"] = "100000",
            ["EchoHost:Chat:HistorySize"] = "0",
            ["EchoHost:Chat:MaxQueuedBytes"] = "16384",
            ["EchoHost:Chat:SlowReaderNickHold"] = "00:00:05",
        };
        await using var a = await StartInstanceAsync(database, settings);
        // The flood's tail still crosses after the cut, packed into few NOTIFYs: the other instance's users must be
        // able to take it at once.
        await using var b = await StartInstanceAsync(database, new Dictionary<string, string?>(settings) { ["EchoHost:Chat:MaxQueuedBytes"] = "8388608" });
        using var victim = await SlowChatUser.ConnectAsync(a.EndPoint("Chat"), IPAddress.Parse("127.0.0.2"));
        await victim.SendAsync("/nick victim");
        await a.Logs.WaitForAsync(e => e.Message.EndsWith(" is now victim", StringComparison.Ordinal));
        using var flooder = await ChatClient.ConnectAsync(a.EndPoint("Chat"));

        var burst = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(new string('f', 1500) + "\n", 500)));
        for (var round = 0; round < 40 && !a.Logs.Entries.Any(e => e.Message.Contains("disconnected as a slow reader")); round++)
        {
            await flooder.SendRawAsync(burst);
            await flooder.SyncAsync();
        }

        await a.Logs.WaitForAsync(e => e.Message.Contains("disconnected as a slow reader"));
        // Someone on the other instance, who arrives after the flood.
        using var other = await ChatClient.ConnectAsync(b.EndPoint("Chat"));
        // One more line from the first instance: once it arrived, everything that instance published before it has too.
        // From a user of its own: the flooder's lines beyond its share of the backplane's queue stay on that instance.
        using var marker = await ChatClient.ConnectAsync(a.EndPoint("Chat"));
        await marker.SendAsync("after the cut");
        await other.ReadUntilAsync(l => l.EndsWith("> after the cut", StringComparison.Ordinal));

        Assert.Equal("!!! Cannot use nick 'victim': it is taken.", await other.AskNickAsync("victim"));

        // The hold ends: the other instances hear the user left, and the nick is free.
        await other.ReadUntilAsync(l => l == "*** victim left lobby (too slow to read)");
        Assert.Equal("*** You are now known as victim", await other.AskNickAsync("victim"));
    }
}
