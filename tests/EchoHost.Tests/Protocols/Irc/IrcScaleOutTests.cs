using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>An IRC user on one instance and a line user on another, one real PostgreSQL between them.</summary>
[Collection(nameof(PostgresCollection))]
public sealed class IrcScaleOutTests(PostgresServer postgres)
{
    private const string BackplaneCategory = "EchoHost.Protocols.Chat.Backplane.PostgresChatBackplane";

    private static async Task<TestHost> StartInstanceAsync(string database)
    {
        var host = await IrcHost.StartAsync(new() { ["EchoHost:Chat:Postgres"] = database });
        await host.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        return host;
    }

    [PostgresFact]
    public async Task An_irc_user_on_one_instance_and_a_line_user_on_another_talk_in_the_lobby()
    {
        var database = await postgres.CreateDatabaseAsync();
        var hosts = await Task.WhenAll(StartInstanceAsync(database), StartInstanceAsync(database));
        await using var a = hosts[0];
        await using var b = hosts[1];

        var (ana, _) = await IrcHost.RegisterAsync(a, "ana");
        using var _1 = ana;
        using var line = await ChatClient.ConnectAsync(b.EndPoint("Chat"));
        await ana.ExpectAsync($":{line.Nick}!~chat@echohost JOIN #lobby");
        Assert.Equal("*** You are now known as lina", await line.AskNickAsync("lina"));
        await ana.ExpectAsync($":{line.Nick}!~chat@echohost NICK :lina");
        // The nick is one namespace across instances: the IRC user's is taken on B too.
        Assert.Equal("!!! Cannot use nick 'ana': it is taken.", await line.AskNickAsync("ana"));

        await line.SendAsync("hello from B");
        Assert.Equal(":lina!~chat@echohost PRIVMSG #lobby :hello from B", await ana.ExpectAsync("PRIVMSG"));
        await ana.SendAsync("PRIVMSG #lobby :hello from A");
        await line.ReadUntilAsync(l => l == "<ana> hello from A");
        await ana.SendAsync("PRIVMSG #lobby :\u0001ACTION waves\u0001");
        await line.ReadUntilAsync(l => l == "* ana waves");
        await ana.SendAsync("PRIVMSG lina :psst");
        await line.ReadUntilAsync(l => l == "[msg from ana] psst");
        await line.SendAsync("/msg ana back");
        Assert.Equal(":lina!~chat@echohost PRIVMSG ana :back", await ana.ExpectAsync("PRIVMSG ana"));
        await ana.SendAsync("TOPIC #lobby :shared topic");
        await line.ReadUntilAsync(l => l == "*** ana set the topic of lobby: shared topic");

        await ana.SendAsync("NAMES #lobby");
        Assert.Equal(":echohost 353 ana = #lobby :ana lina", await ana.ExpectAsync(" 353 "));

        await ana.SendAsync("QUIT :bye");
        await line.ReadUntilAsync(l => l == "*** ana left lobby (quit: bye)");
        await line.SendAsync("%end%");
        await line.ReadToEndAsync();
    }
}
