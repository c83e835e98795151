using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>What an IRC client waits for while it registers, on a real socket: the burst, CAP, and the nick numerics.</summary>
public sealed class IrcRegistrationTests
{
    [Fact]
    public async Task Registration_sends_the_welcome_isupport_motd_and_the_lobby_with_a_full_prefix()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, burst) = await IrcHost.RegisterAsync(host, "ana");
        using var _ = ana;

        var codes = burst.Select(l => l.Split(' ')[1]).ToList();
        Assert.Equal(["001", "002", "003", "004", "005", "375", "372", "372", "372", "376", "JOIN", "331", "353", "366"], codes);
        Assert.All(burst.Where(l => l.StartsWith(":echohost ", StringComparison.Ordinal)), l => Assert.Equal("ana", l.Split(' ')[2]));
        var isupport = burst[4];
        foreach (var token in new[] { "CASEMAPPING=ascii", "CHANTYPES=#", "NICKLEN=24", "CHANNELLEN=25", "PREFIX=()", "NETWORK=EchoHost", "CHANLIMIT=#:1" })
        {
            Assert.Contains($" {token} ", isupport);
        }

        Assert.Equal(":ana!~chat@echohost JOIN #lobby", burst[10]);
        Assert.Equal(":echohost 353 ana = #lobby :ana", burst[12]);
        Assert.Equal(":echohost 366 ana #lobby :End of /NAMES list.", burst[13]);
    }

    [Fact]
    public async Task Cap_negotiation_holds_registration_until_cap_end_and_acks_only_what_is_offered()
    {
        await using var host = await IrcHost.StartAsync();
        using var client = await IrcHost.OpenAsync(host);

        await client.SendAsync("CAP LS 302");
        Assert.Equal(":echohost CAP * LS :echo-message message-tags server-time", await client.ReadLineAsync());
        await client.SendAsync("CAP REQ :server-time sasl");
        Assert.Equal(":echohost CAP * NAK :server-time sasl", await client.ReadLineAsync());
        await client.SendAsync("CAP REQ :server-time message-tags");
        Assert.Equal(":echohost CAP * ACK :server-time message-tags", await client.ReadLineAsync());
        await client.SendAsync("PASS whatever");
        await client.SendAsync("NICK ana");
        await client.SendAsync("USER ana 0 * :Ana");
        // Still negotiating: no welcome until CAP END, and the server answers in order.
        Assert.Empty(await client.SyncAsync());
        await client.SendAsync("CAP LIST");
        Assert.Equal(":echohost CAP ana LIST :message-tags server-time", await client.ReadLineAsync());
        await client.SendAsync("CAP END");
        Assert.StartsWith(":echohost 001 ana ", await client.ReadLineAsync());
        await client.ExpectAsync(" 366 ana #lobby ");
        await client.SendAsync("CAP REQ :echo-message");
        Assert.Equal(":echohost CAP ana NAK :echo-message", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Bad_and_taken_nicks_get_431_432_433_and_the_client_may_try_again()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        using var client = await IrcHost.OpenAsync(host);

        await client.SendAsync("NICK");
        Assert.Equal(":echohost 431 * :No nickname given", await client.ReadLineAsync());
        await client.SendAsync("NICK [bracket]");
        Assert.StartsWith(":echohost 432 * [bracket] :Erroneous nickname", await client.ReadLineAsync());
        await client.SendAsync("NICK admin");
        Assert.StartsWith(":echohost 432 * admin :Erroneous nickname: that name is reserved", await client.ReadLineAsync());
        await client.SendAsync("NICK ANA");
        Assert.Equal(":echohost 433 * ANA :Nickname is already in use", await client.ReadLineAsync());
        // A look-alike is taken too, as for line users.
        await client.SendAsync("NICK ana_");
        Assert.Equal(":echohost 433 * ana_ :Nickname is already in use", await client.ReadLineAsync());
        await client.SendAsync("USER x 0 * :x");
        Assert.Empty(await client.SyncAsync());
        await client.SendAsync("NICK bea");
        Assert.StartsWith(":echohost 001 bea ", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Commands_before_registration_get_451_and_short_ones_461()
    {
        await using var host = await IrcHost.StartAsync();
        using var client = await IrcHost.OpenAsync(host);

        await client.SendAsync("JOIN #lobby");
        Assert.Equal(":echohost 451 * JOIN :You have not registered", await client.ReadLineAsync());
        await client.SendAsync("PRIVMSG #lobby :hi");
        Assert.Equal(":echohost 451 * PRIVMSG :You have not registered", await client.ReadLineAsync());
        await client.SendAsync("USER onlyone");
        Assert.Equal(":echohost 461 * USER :Not enough parameters", await client.ReadLineAsync());
        await client.SendAsync("PING :tok");
        Assert.Equal(":echohost PONG echohost :tok", await client.ReadLineAsync());
        await client.SendAsync("QUIT");
        var end = await client.ReadToEndAsync();
        Assert.Equal(["ERROR :Closing link: * (quit)"], end);
    }

    [Fact]
    public async Task A_nick_held_by_a_line_user_is_refused_and_a_line_user_cannot_take_an_irc_users_nick()
    {
        await using var host = await IrcHost.StartAsync();
        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as lina", await line.AskNickAsync("lina"));
        using var client = await IrcHost.OpenAsync(host);
        await client.SendAsync("NICK lina");
        Assert.Equal(":echohost 433 * lina :Nickname is already in use", await client.ReadLineAsync());

        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        Assert.Equal("!!! Cannot use nick 'ana': it is taken.", await line.AskNickAsync("ana"));
    }
}
