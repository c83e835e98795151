using System.Net;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// Real IRC clients on EchoHost's Irc listener, in the same lobby as line users (nc, telnet; here raw sockets on the
/// Chat listener): the client joins #lobby and shows its history and names list, messages, /me, private messages and
/// the topic go both ways, both kinds change nick, the IRC client shows the line user moving rooms and back and leaving with %end%, and the line
/// users see the IRC client quit. Asserted on what the client displays (its logs) and what the line users read.
/// </summary>
public sealed class IrcClientsEndToEndTests
{
    [ToolFact(ExternalTools.Irssi, ExternalTools.Tmux)]
    public Task Irssi_shares_the_lobby_with_line_users() =>
        SharesTheLobbyAsync(async endPoint => await IrssiClient.StartAsync(endPoint, "ann", "#lobby"));

    [ToolFact(ExternalTools.WeeChat)]
    public Task WeeChat_shares_the_lobby_with_line_users() =>
        SharesTheLobbyAsync(async endPoint => await WeeChatClient.StartAsync(endPoint, "ann", "#lobby"));

    private static async Task SharesTheLobbyAsync(Func<IPEndPoint, Task<IIrcClient>> start)
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Listeners:Irc:Protocol"] = "Irc",
            ["EchoHost:Listeners:Irc:Port"] = "0",
        });
        // Two line users: lina talks and leaves; otto stays to see the IRC user go.
        using var lina = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as lina", await lina.AskNickAsync("lina"));
        using var otto = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as otto", await otto.AskNickAsync("otto"));
        await lina.SendAsync("said before the IRC user came");
        await otto.ReadUntilAsync(l => l == "<lina> said before the IRC user came");

        await using var irc = await start(host.EndPoint("Irc"));
        var shows = irc.Shows;

        // In #lobby on arrival, with the room's history and its names list, line users in it.
        await irc.Log.WaitForAsync(shows.Joined("ann", "#lobby"));
        await irc.Log.WaitForTextAsync("said before the IRC user came");
        await irc.Log.WaitForAsync(shows.InNames("#lobby", "lina"));
        await irc.Log.WaitForAsync(shows.InNames("#lobby", "otto"));
        await lina.ReadUntilAsync(l => l == "*** ann joined lobby");

        // Messages and /me, both ways.
        await irc.SayAsync("#lobby", $"hello from {irc.Name}");
        await lina.ReadUntilAsync(l => l == $"<ann> hello from {irc.Name}");
        await irc.ActAsync("#lobby", "waves");
        await lina.ReadUntilAsync(l => l == "* ann waves");
        await lina.SendAsync("hi there");
        await irc.Log.WaitForAsync(shows.Message("lina", "hi there"));
        await lina.SendAsync("/me nods");
        await irc.Log.WaitForAsync(shows.Action("lina", "nods"));

        // Private messages and the room's topic, both ways.
        await irc.CommandAsync("/msg lina psst");
        await lina.ReadUntilAsync(l => l == "[msg from ann] psst");
        await lina.SendAsync("/msg ann psst back");
        await irc.Log.WaitForAsync(shows.Message("lina", "psst back"));
        await lina.SendAsync("/topic games at 8");
        await irc.Log.WaitForAsync(shows.TopicChanged("lina", "#lobby", "games at 8"));
        await irc.CommandAsync("/topic #lobby games at 9");
        await lina.ReadUntilAsync(l => l == "*** ann set the topic of lobby: games at 9");

        // Nick changes, both ways.
        await irc.CommandAsync("/nick ann2");
        await irc.Log.WaitForAsync(shows.YouAreNow("ann2"));
        await lina.ReadUntilAsync(l => l == "*** ann is now known as ann2");
        Assert.Equal("*** You are now known as lina2", await lina.AskNickAsync("lina2"));
        await irc.Log.WaitForAsync(shows.NickChanged("lina", "lina2"));

        // The line user's /join elsewhere is a part, back to lobby a join, and %end% a quit.
        await lina.SendAsync("/join kitchen");
        await irc.Log.WaitForAsync(shows.Left("lina2", "#lobby"));
        await lina.SendAsync("/join lobby");
        await irc.Log.WaitForAsync(shows.Joined("lina2", "#lobby"));
        await lina.SendAsync("%end%");
        Assert.Equal("%end%", (await lina.ReadToEndAsync()).Last());
        await irc.Log.WaitForAsync(shows.Quit("lina2"));

        // The IRC user quits; the line user still there sees it leave.
        await irc.QuitAsync("bye");
        await otto.ReadUntilAsync(l => l.StartsWith("*** ann2 left lobby", StringComparison.Ordinal));
    }
}
