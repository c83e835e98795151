using System.Net.WebSockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// <c>/ws/irc</c> on the real host as IRCv3's WebSocket extension says (https://ircv3.net/specs/extensions/websocket):
/// a raw client speaking <c>text.ircv3.net</c> (one IRC line per message, no CR LF) registers, joins and talks with a
/// line user of the chat listener; subprotocols follow the client's order of preference and are never one it did not
/// offer.
/// </summary>
public sealed class WebSocketIrcTests
{
    private static async Task<(WebSocketLineClient Client, List<string> Burst)> RegisterAsync(
        TestHost host, string nick, Action<ClientWebSocketOptions>? configure = null, string lineEnd = "")
    {
        var client = await WebSocketLineClient.ConnectAsync(host, "/ws/irc", configure ?? (o => o.AddSubProtocol("text.ircv3.net")));
        await client.SendAsync($"NICK {nick}{lineEnd}");
        await client.SendAsync($"USER {nick} 0 * :{nick}{lineEnd}");
        var burst = await client.ReadUntilAsync(l => l.Contains(" 366 ", StringComparison.Ordinal));
        burst.Add(client.LastLine);
        return (client, burst);
    }

    [Fact]
    public async Task A_text_ircv3_client_registers_joins_and_talks_with_a_line_user()
    {
        await using var host = await WebHost.StartAsync();
        var (irc, burst) = await RegisterAsync(host, "ana");
        using var _ = irc;
        Assert.Equal("text.ircv3.net", irc.Socket.SubProtocol);
        Assert.Contains(burst, l => l.StartsWith(":echohost 001 ana ", StringComparison.Ordinal));
        // One line per message, never a CR or LF in one.
        Assert.DoesNotContain(burst, l => l.Contains('\r') || l.Contains('\n'));
        Assert.Equal(WebSocketMessageType.Text, irc.LastType);

        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await irc.ReadUntilAsync(l => l == $":{line.Nick}!~chat@echohost JOIN #lobby");
        await line.SendAsync("hello from nc");
        Assert.Equal($":{line.Nick}!~chat@echohost PRIVMSG #lobby :hello from nc", await irc.ReadLineAsync());
        await irc.SendAsync("PRIVMSG #lobby :hello from the web");
        Assert.Equal("<ana> hello from the web", await line.ReadLineAsync());

        await irc.SendAsync("JOIN #games");
        await irc.ReadUntilAsync(l => l.Contains(" 366 ana #games ", StringComparison.Ordinal));
        Assert.Equal("*** ana left lobby (joined games)", await line.ReadLineAsync());
        await line.SendAsync("/join games");
        await irc.ReadUntilAsync(l => l == $":{line.Nick}!~chat@echohost JOIN #games");

        await irc.SendAsync("QUIT :bye now");
        var last = await irc.ReadToCloseAsync();
        Assert.StartsWith("ERROR :Closing link: ana", last[^1]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, irc.Socket.CloseStatus);
        await line.ReadUntilAsync(l => l == "*** ana left games (quit: bye now)");
    }

    [Fact]
    public async Task A_trailing_CRLF_in_a_message_is_tolerated()
    {
        await using var host = await WebHost.StartAsync();
        var (irc, burst) = await RegisterAsync(host, "ana", lineEnd: "\r\n");
        using var _ = irc;
        Assert.Contains(burst, l => l.StartsWith(":echohost 001 ana ", StringComparison.Ordinal));
        await irc.SendAsync("PING :token\r\n");
        Assert.EndsWith("PONG echohost :token", await irc.ReadLineAsync());
    }

    [Fact]
    public async Task Binary_ircv3_exchanges_binary_messages_when_the_client_prefers_it()
    {
        await using var host = await WebHost.StartAsync();
        var (irc, burst) = await RegisterAsync(host, "ana", o =>
        {
            o.AddSubProtocol("binary.ircv3.net");
            o.AddSubProtocol("text.ircv3.net");
        });
        using var _ = irc;
        Assert.Equal("binary.ircv3.net", irc.Socket.SubProtocol);
        Assert.Equal(WebSocketMessageType.Binary, irc.LastType);

        // Not UTF-8 in a binary message: the IRC listener's notice, and the session goes on.
        await irc.SendRawAsync([.. Encoding.ASCII.GetBytes("PRIVMSG #lobby :caf"), 0xE9], WebSocketMessageType.Binary);
        Assert.Contains("not valid UTF-8", await irc.ReadLineAsync());
    }

    [Fact]
    public async Task The_clients_order_of_preference_wins()
    {
        await using var host = await WebHost.StartAsync();
        using var irc = await WebSocketLineClient.ConnectAsync(host, "/ws/irc", o =>
        {
            o.AddSubProtocol("text.ircv3.net");
            o.AddSubProtocol("binary.ircv3.net");
        });
        Assert.Equal("text.ircv3.net", irc.Socket.SubProtocol);
    }

    [Fact]
    public async Task An_unoffered_subprotocol_is_never_chosen_and_no_subprotocol_means_text()
    {
        await using var host = await WebHost.StartAsync();
        using var other = await WebSocketLineClient.ConnectAsync(host, "/ws/irc", o => o.AddSubProtocol("irc"));
        Assert.Null(other.Socket.SubProtocol);

        var (irc, burst) = await RegisterAsync(host, "ana", _ => { });
        using var _1 = irc;
        Assert.Null(irc.Socket.SubProtocol);
        Assert.Contains(burst, l => l.StartsWith(":echohost 001 ana ", StringComparison.Ordinal));
        Assert.Equal(WebSocketMessageType.Text, irc.LastType);
    }
}
