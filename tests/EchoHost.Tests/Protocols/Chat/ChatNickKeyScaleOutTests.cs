using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>Issue 26, item 11, across instances: a nick that looks like one taken on another instance is taken too.</summary>
[Collection(nameof(PostgresCollection))]
public sealed class ChatNickKeyScaleOutTests(PostgresServer postgres)
{
    private static async Task<TestHost> StartInstanceAsync(string database)
    {
        var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Chat:Postgres"] = database,
        });
        await host.Logs.WaitForAsync(e => e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        return host;
    }

    /// <summary>Asks for <paramref name="nick"/>; returns the answer, skipping notices from the other instance.</summary>
    private static async Task<string> AskForNickAsync(ChatClient user, string nick)
    {
        await user.SendAsync($"/nick {nick}");
        await user.ReadUntilAsync(l => l.StartsWith("*** You are now known as ", StringComparison.Ordinal) || l.StartsWith("!!!", StringComparison.Ordinal));
        return user.LastLine;
    }

    [PostgresFact]
    public async Task A_look_alike_of_a_nick_on_another_instance_is_taken_and_free_once_its_owner_leaves()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartInstanceAsync(database);
        await using var b = await StartInstanceAsync(database);
        using var alice = await ChatClient.ConnectAsync(a.EndPoint("Chat"));
        Assert.Equal("*** You are now known as alice", await AskForNickAsync(alice, "alice"));
        using var other = await ChatClient.ConnectAsync(b.EndPoint("Chat"));

        Assert.Equal("!!! Cannot use nick 'a1ice': it is taken.", await AskForNickAsync(other, "a1ice"));
        Assert.Equal("!!! Cannot use nick 'aIice': it is taken.", await AskForNickAsync(other, "aIice"));
        Assert.Equal("!!! Cannot use nick 'alice.': it is taken.", await AskForNickAsync(other, "alice."));

        await alice.SendAsync("/quit");
        await other.ReadUntilAsync(l => l == "*** alice left lobby (quit)");
        Assert.Equal("*** You are now known as a1ice", await AskForNickAsync(other, "a1ice"));
    }
}
