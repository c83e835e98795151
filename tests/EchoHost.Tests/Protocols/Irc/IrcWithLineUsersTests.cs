using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>An IRC user and an nc-style line user in the same rooms, each seeing the other in its own form.</summary>
public sealed class IrcWithLineUsersTests
{
    private const char Ctcp = '\u0001';

    /// <summary>ana on IRC, then a line user who took <paramref name="lineNick"/>, each having seen the other arrive.</summary>
    private static async Task<(IrcTestClient Irc, ChatClient Line)> AnaAndLineUserAsync(TestHost host, string lineNick = "lina", params string[] caps)
    {
        var (irc, _) = await IrcHost.RegisterAsync(host, "ana", caps);
        var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await irc.ExpectAsync($":{line.Nick}!~chat@echohost JOIN #lobby");
        Assert.Equal($"*** You are now known as {lineNick}", await line.AskNickAsync(lineNick));
        Assert.Equal($":{line.Nick}!~chat@echohost NICK :{lineNick}", await irc.ExpectAsync(" NICK "));
        return (irc, line);
    }

    [Fact]
    public async Task Messages_and_actions_cross_both_ways_and_are_not_echoed_to_the_sender()
    {
        await using var host = await IrcHost.StartAsync();
        var (irc, line) = await AnaAndLineUserAsync(host);
        using var _ = irc;
        using var _1 = line;

        await line.SendAsync("hello from nc");
        Assert.Equal(":lina!~chat@echohost PRIVMSG #lobby :hello from nc", await irc.ReadLineAsync());
        await line.SendAsync("/me waves");
        Assert.Equal($":lina!~chat@echohost PRIVMSG #lobby :{Ctcp}ACTION waves{Ctcp}", await irc.ReadLineAsync());

        await irc.SendAsync("PRIVMSG #lobby :hello from \u0002irssi\u0002");
        Assert.Equal("<ana> hello from irssi", await line.ReadLineAsync());
        await irc.SendAsync($"PRIVMSG #lobby :{Ctcp}ACTION dances{Ctcp}");
        Assert.Equal("* ana dances", await line.ReadLineAsync());
        // Nothing came back to the IRC sender (no echo-message), nor to the line sender.
        Assert.Empty(await irc.SyncAsync());
        Assert.DoesNotContain(await line.SyncAsync(), l => l.Contains("lina", StringComparison.Ordinal) && !l.StartsWith("***", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Echo_message_sends_the_irc_user_its_own_channel_and_private_messages()
    {
        await using var host = await IrcHost.StartAsync();
        var (irc, line) = await AnaAndLineUserAsync(host, "lina", "echo-message");
        using var _ = irc;
        using var _1 = line;

        await irc.SendAsync("PRIVMSG #lobby :mine");
        Assert.Equal(":ana!~chat@echohost PRIVMSG #lobby :mine", await irc.ReadLineAsync());
        await irc.SendAsync("PRIVMSG lina :just you");
        Assert.Equal(":ana!~chat@echohost PRIVMSG lina :just you", await irc.ReadLineAsync());
        Assert.Equal("<ana> mine", await line.ReadLineAsync());
        Assert.Equal("[msg from ana] just you", await line.ReadLineAsync());
    }

    [Fact]
    public async Task Private_messages_cross_both_ways_and_an_unknown_nick_is_401()
    {
        await using var host = await IrcHost.StartAsync();
        var (irc, line) = await AnaAndLineUserAsync(host);
        using var _ = irc;
        using var _1 = line;

        await line.SendAsync("/msg ana psst");
        Assert.Equal(":lina!~chat@echohost PRIVMSG ana :psst", await irc.ReadLineAsync());
        await irc.SendAsync("PRIVMSG lina :back at you");
        await irc.SendAsync("PRIVMSG nobody :hello?");
        Assert.Equal(":echohost 401 * nobody :No such nick/channel", await irc.ReadLineAsync());
        // A NOTICE never gets an automatic reply, not even an error.
        await irc.SendAsync("NOTICE nobody :hello?");
        Assert.Empty(await irc.SyncAsync());
        await irc.SendAsync("NOTICE lina :noticed");
        Assert.Equal("[msg to ana] psst", await line.ReadLineAsync());
        Assert.Equal("[msg from ana] back at you", await line.ReadLineAsync());
        Assert.Equal("[msg from ana] noticed", await line.ReadLineAsync());
        await irc.SendAsync($"PRIVMSG lina :{Ctcp}VERSION{Ctcp}");
        Assert.Equal($":lina!~chat@echohost NOTICE ana :{Ctcp}VERSION EchoHost chat{Ctcp}", await irc.ReadLineAsync());
        Assert.Empty(await line.SyncAsync());
    }

    [Fact]
    public async Task Joins_parts_nick_changes_topics_and_the_end_marker_are_seen_by_both_kinds()
    {
        await using var host = await IrcHost.StartAsync();
        var (irc, line) = await AnaAndLineUserAsync(host);
        using var _ = irc;
        using var _1 = line;

        await irc.SendAsync("NICK anna");
        Assert.Equal(":ana!~chat@echohost NICK :anna", await irc.ReadLineAsync());
        Assert.Equal("*** ana is now known as anna", await line.ReadLineAsync());

        await line.SendAsync("/topic Rules: be kind");
        Assert.Equal(":lina!~chat@echohost TOPIC #lobby :Rules: be kind", await irc.ReadLineAsync());
        Assert.Equal("*** lina set the topic of lobby: Rules: be kind", await line.ReadLineAsync());
        await irc.SendAsync("TOPIC #lobby :Rules: be very kind");
        Assert.Equal(":anna!~chat@echohost TOPIC #lobby :Rules: be very kind", await irc.ReadLineAsync());
        Assert.Equal("*** anna set the topic of lobby: Rules: be very kind", await line.ReadLineAsync());
        await line.SendAsync("/topic");
        Assert.Equal("*** Topic of lobby: Rules: be very kind (set by anna)", await line.ReadLineAsync());

        await line.SendAsync("/join games");
        Assert.Equal(":lina!~chat@echohost PART #lobby :joined games", await irc.ReadLineAsync());
        await irc.SendAsync("JOIN #games");
        Assert.Equal(":anna!~chat@echohost PART #lobby :joined games", await irc.ReadLineAsync());
        Assert.Equal(":anna!~chat@echohost JOIN #games", await irc.ReadLineAsync());
        Assert.Equal(":echohost 331 anna #games :No topic is set", await irc.ReadLineAsync());
        Assert.Equal(":echohost 353 anna = #games :anna lina", await irc.ReadLineAsync());
        Assert.Equal(":echohost 366 anna #games :End of /NAMES list.", await irc.ReadLineAsync());
        await line.ReadUntilAsync(l => l == "*** anna joined games");

        await irc.SendAsync("PART #games :bye");
        Assert.Equal(":anna!~chat@echohost PART #games :joined lobby", await irc.ReadLineAsync());
        Assert.Equal(":anna!~chat@echohost JOIN #lobby", await irc.ReadLineAsync());
        // The topic and NAMES that follow a JOIN are rendered when the room answers, so a join by someone else in
        // between is sent before them (and is in the NAMES); read them before lina comes back.
        await irc.ExpectAsync(" 366 anna #lobby ");
        Assert.Equal("*** anna left games (joined lobby)", await line.ReadLineAsync());
        await line.SendAsync("/join lobby");
        await irc.ExpectAsync(":lina!~chat@echohost JOIN #lobby");

        await line.SendAsync("%end%");
        Assert.Equal(":lina!~chat@echohost QUIT :quit", await irc.ReadLineAsync());
        var last = await line.ReadToEndAsync();
        Assert.Equal("%end%", last[^1]);
    }

    [Fact]
    public async Task An_irc_quit_is_seen_by_line_users_with_its_reason_and_ends_with_error()
    {
        await using var host = await IrcHost.StartAsync();
        var (irc, line) = await AnaAndLineUserAsync(host);
        using var _ = irc;
        using var _1 = line;

        await irc.SendAsync("QUIT :see you");
        Assert.Equal(["ERROR :Closing link: ana (quit: see you)"], await irc.ReadToEndAsync());
        Assert.Equal("*** ana left lobby (quit: see you)", await line.ReadLineAsync());
    }

    [Fact]
    public async Task History_on_join_is_tagged_with_server_time_or_sent_as_timestamped_notices()
    {
        await using var host = await IrcHost.StartAsync();
        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await line.SendAsync("/nick lina");
        await line.SendAsync("before you came");
        await line.SendAsync("/me waits");
        Assert.Empty(await line.SyncAsync().ContinueWith(t => t.Result.Where(l => !l.StartsWith("***", StringComparison.Ordinal)).ToList()));

        var (tagged, burst) = await IrcHost.RegisterAsync(host, "ana", "server-time");
        using var _ = tagged;
        var history = burst.Where(l => l.StartsWith('@')).ToList();
        Assert.Equal(2, history.Count);
        Assert.Matches(@"^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :lina!~chat@echohost PRIVMSG #lobby :before you came$", history[0]);
        Assert.EndsWith($":lina!~chat@echohost PRIVMSG #lobby :{Ctcp}ACTION waits{Ctcp}", history[1]);

        var (plain, plainBurst) = await IrcHost.RegisterAsync(host, "bea");
        using var _1 = plain;
        var notices = plainBurst.Where(l => l.StartsWith(":echohost NOTICE #lobby ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, notices.Count);
        Assert.Matches(@"^:echohost NOTICE #lobby :\[\d\d:\d\d:\d\d\] <lina> before you came$", notices[0]);
        Assert.Matches(@"^:echohost NOTICE #lobby :\[\d\d:\d\d:\d\d\] \* lina waits$", notices[1]);
        // After the JOIN, before the names: a client has the channel open when they come.
        Assert.True(plainBurst.FindIndex(l => l.Contains(" JOIN #lobby", StringComparison.Ordinal)) < plainBurst.IndexOf(notices[0]));
    }
}
