using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// The client drivers themselves, against a real InspIRCd: irssi and WeeChat in one channel see each other's joins,
/// messages, actions, nick changes, part and quit as each displays them. When an EchoHost scenario fails and this
/// passes, the failure is EchoHost's.
/// </summary>
public sealed class IrcClientDriverTests
{
    [ToolFact(ExternalTools.Irssi, ExternalTools.Tmux, ExternalTools.WeeChat, ExternalTools.InspIrcd)]
    public async Task Irssi_and_WeeChat_talk_through_InspIRCd()
    {
        await using var server = await InspIrcdServer.StartAsync();
        await using var irssi = await IrssiClient.StartAsync(server.EndPoint, "ann", "#lobby");
        await irssi.Log.WaitForAsync(irssi.Shows.Joined("ann", "#lobby"));
        await using var weechat = await WeeChatClient.StartAsync(server.EndPoint, "bob", "#lobby");
        await weechat.Log.WaitForAsync(weechat.Shows.InNames("#lobby", "ann"));
        await irssi.Log.WaitForAsync(irssi.Shows.Joined("bob", "#lobby"));

        await irssi.SayAsync("#lobby", "hello bob");
        await weechat.Log.WaitForAsync(weechat.Shows.Message("ann", "hello bob"));
        await weechat.SayAsync("#lobby", "hello ann");
        await irssi.Log.WaitForAsync(irssi.Shows.Message("bob", "hello ann"));
        await irssi.ActAsync("#lobby", "waves");
        await weechat.Log.WaitForAsync(weechat.Shows.Action("ann", "waves"));
        await weechat.ActAsync("#lobby", "nods");
        await irssi.Log.WaitForAsync(irssi.Shows.Action("bob", "nods"));

        // (No topic here: the benchmark's InspIRCd makes nobody an operator, and its channels are +t.)
        await weechat.CommandAsync("/msg ann psst");
        await irssi.Log.WaitForAsync(irssi.Shows.Message("bob", "psst"));
        await irssi.CommandAsync("/msg bob psst back");
        await weechat.Log.WaitForAsync(weechat.Shows.Message("ann", "psst back"));

        await irssi.CommandAsync("/nick ann2");
        await irssi.Log.WaitForAsync(irssi.Shows.YouAreNow("ann2"));
        await weechat.Log.WaitForAsync(weechat.Shows.NickChanged("ann", "ann2"));
        await weechat.CommandAsync("/nick bob2");
        await weechat.Log.WaitForAsync(weechat.Shows.YouAreNow("bob2"));
        await irssi.Log.WaitForAsync(irssi.Shows.NickChanged("bob", "bob2"));

        await weechat.CommandAsync("/part #lobby");
        await irssi.Log.WaitForAsync(irssi.Shows.Left("bob2", "#lobby"));
        await weechat.CommandAsync("/join #lobby");
        await irssi.Log.WaitForAsync(irssi.Shows.Joined("bob2", "#lobby"));
        await weechat.QuitAsync("bye");
        await irssi.Log.WaitForAsync(irssi.Shows.Quit("bob2"));
        await irssi.QuitAsync("bye");
    }
}
