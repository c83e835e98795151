using System.Net.Http.Json;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>The replies irssi and WeeChat send for on join and wait for: NAMES, WHO, WHOIS, MODE, LIST, TOPIC, PING.</summary>
public sealed class IrcQueriesTests
{
    [Fact]
    public async Task Names_who_whois_mode_list_and_topic_answer_with_their_numerics()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await line.AskNickAsync("lina.dot");
        await ana.ExpectAsync(" NICK :lina.dot");

        async Task<List<string>> AskAsync(string command, string until)
        {
            await ana.SendAsync(command);
            var lines = await ana.ReadUntilAsync(l => l.Split(' ')[1] == until);
            lines.Add(ana.LastLine);
            return lines;
        }

        Assert.Equal([":echohost 353 ana = #lobby :ana lina.dot", ":echohost 366 ana #lobby :End of /NAMES list."], await AskAsync("NAMES #lobby", "366"));
        Assert.Equal(
            [
                ":echohost 352 ana #lobby ~chat echohost echohost ana H :0 ana",
                ":echohost 352 ana #lobby ~chat echohost echohost lina.dot H :0 lina.dot",
                ":echohost 315 ana #lobby :End of /WHO list.",
            ], await AskAsync("WHO #lobby", "315"));
        Assert.Equal(
            [
                ":echohost 311 ana lina.dot ~chat echohost * :lina.dot",
                ":echohost 319 ana lina.dot :#lobby",
                ":echohost 312 ana lina.dot echohost :EchoHost chat",
                ":echohost 318 ana lina.dot :End of /WHOIS list.",
            ], await AskAsync("WHOIS lina.dot", "318"));
        Assert.Equal([":echohost 401 ana ghost :No such nick/channel", ":echohost 318 ana ghost :End of /WHOIS list."], await AskAsync("WHOIS ghost", "318"));
        Assert.Equal([":echohost 324 ana #lobby :+"], await AskAsync("MODE #lobby", "324"));
        Assert.Equal([":echohost 368 ana #lobby :End of channel ban list"], await AskAsync("MODE #lobby b", "368"));
        Assert.Equal([":echohost 221 ana :+"], await AskAsync("MODE ana", "221"));
        Assert.Equal([":echohost 482 ana #lobby :Channel modes are not supported here"], await AskAsync("MODE #lobby +o lina.dot", "482"));
        Assert.Equal([":echohost 331 * #lobby :No topic is set"], await AskAsync("TOPIC #lobby", "331"));
        Assert.Equal(
            [":echohost 321 ana Channel :Users  Name", ":echohost 322 ana #lobby 2 :", ":echohost 323 ana :End of /LIST"],
            await AskAsync("LIST", "323"));
        // A typing notification (WeeChat sends them with message-tags) is dropped without a word.
        Assert.Equal([":echohost PONG echohost :12345"], await AskAsync("@+typing=active TAGMSG #lobby\r\nPING 12345", "PONG"));
        Assert.Equal([":echohost 303 ana :lina.dot"], await AskAsync("ISON lina.dot ghost", "303"));
        // irssi's /whois of someone gone falls back to WHOWAS and waits for its end.
        Assert.Equal([":echohost 406 ana ghost :There was no such nickname", ":echohost 369 ana ghost :End of WHOWAS"], await AskAsync("WHOWAS ghost 1", "369"));
        Assert.Equal(["375", "372", "372", "372", "376"], (await AskAsync("MOTD", "376")).Select(l => l.Split(' ')[1]));
        // A nick with a '.' always comes with its full prefix, never as a bare server-like name.
        await line.SendAsync("dotted");
        Assert.Equal(":lina.dot!~chat@echohost PRIVMSG #lobby :dotted", await ana.ReadLineAsync());
    }

    [Fact]
    public async Task Irc_users_show_in_connections_with_nick_and_room_and_in_the_chat_metrics()
    {
        await using var host = await IrcHost.StartAsync(new() { ["EchoHost:Http:ConnectionsEndpoint"] = "true" });
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        await ana.SendAsync("JOIN #games");
        await ana.ExpectAsync(" 366 ana #games ");
        await ana.SyncAsync();

        using var http = host.CreateHttpClient();
        var connection = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("connections"))!);
        Assert.Equal("Irc", connection.GetProperty("listener").GetString());
        Assert.Equal("ana", connection.GetProperty("nick").GetString());
        Assert.Equal("games", connection.GetProperty("room").GetString());

        var metrics = await host.ScrapeAsync();
        Assert.Equal(1, metrics.Value("echohost_chat_users", ("echohost_listener", "Irc"), ("echohost_protocol", "irc")));
    }
}
