using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// <c>/ws/chat</c> on the real host with real sockets: WebSocket users (<see cref="ClientWebSocket"/>, one line per
/// message) in the same rooms as nc-style line users on the chat listener, with the same commands, notices and limits,
/// and a close frame saying why whenever the server ends the session.
/// </summary>
public sealed class WebSocketChatTests
{
    private static Task<ChatClient> JoinLineAsync(TestHost host) => ChatClient.ConnectAsync(host.EndPoint("Chat"));

    [Fact]
    public async Task A_WebSocket_user_and_a_line_user_talk_in_the_lobby()
    {
        await using var host = await WebHost.StartAsync();
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        using var line = await JoinLineAsync(host);
        Assert.Equal($"*** {line.Nick} joined lobby", await web.ReadLineAsync());

        await web.SendAsync("hello from a browser");
        Assert.Equal($"<{webNick}> hello from a browser", await line.ReadLineAsync());
        await line.SendAsync("hello from nc");
        Assert.Equal($"<{line.Nick}> hello from nc", await web.ReadLineAsync());
        Assert.Equal(WebSocketMessageType.Text, web.LastType);

        // The same commands: a nick, then who is here.
        await web.SendAsync("/nick webby");
        Assert.Equal("*** You are now known as webby", await web.ReadLineAsync());
        Assert.Equal($"*** {webNick} is now known as webby", await line.ReadLineAsync());
        await web.SendAsync("/who");
        Assert.Equal($"*** lobby (2): {line.Nick}, webby", await web.ReadLineAsync());
    }

    [Fact]
    public async Task A_WebSocket_user_joins_a_room_and_gets_its_history()
    {
        await using var host = await WebHost.StartAsync();
        using var line = await JoinLineAsync(host);
        await line.SendAsync("/join games");
        await line.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        await line.SendAsync("said before the browser came");
        await line.SyncAsync();

        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        await web.SendAsync("/join games");
        var greeting = await web.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        Assert.Contains("*** Recent messages in games:", greeting);
        Assert.Contains(greeting, l => l.EndsWith($"<{line.Nick}> said before the browser came", StringComparison.Ordinal));
        Assert.Equal($"*** {webNick} joined games", await line.ReadLineAsync());
    }

    [Fact]
    public async Task End_of_session_gets_a_close_frame_and_the_room_sees_the_user_leave()
    {
        await using var host = await WebHost.StartAsync();
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        using var line = await JoinLineAsync(host);
        await web.ReadLineAsync();

        await web.SendAsync("%end%");
        Assert.Equal([$"*** Goodbye, {webNick}!", "%end%"], await web.ReadToCloseAsync());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, web.Socket.CloseStatus);
        Assert.Equal("session ended", web.Socket.CloseStatusDescription);
        Assert.Equal($"*** {webNick} left lobby (quit)", await line.ReadLineAsync());
    }

    [Fact]
    public async Task Server_shutdown_says_goodbye_and_closes_with_1001()
    {
        await using var host = await WebHost.StartAsync();
        var (web, _) = await WebSocketLineClient.JoinChatAsync(host);
        using var _1 = web;

        var stopping = host.StopAsync();
        Assert.Equal(["*** Server is shutting down. Goodbye!", "%end%"], await web.ReadToCloseAsync());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, web.Socket.CloseStatus);
        await stopping;
    }

    [Fact]
    public async Task A_client_that_closes_leaves_the_room()
    {
        await using var host = await WebHost.StartAsync();
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var line = await JoinLineAsync(host);
        await web.ReadLineAsync();

        await web.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "tab closed", TestTimeouts.Token());
        Assert.Equal(WebSocketState.Closed, web.Socket.State);
        Assert.Equal($"*** {webNick} left lobby (connection closed)", await line.ReadLineAsync());
        web.Dispose();
    }

    [Fact]
    public async Task A_binary_message_closes_with_1003_and_a_reason()
    {
        await using var host = await WebHost.StartAsync();
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        using var line = await JoinLineAsync(host);
        await web.ReadLineAsync();

        await web.SendAsync("not text", WebSocketMessageType.Binary);
        Assert.Equal(["%end%"], await web.ReadToCloseAsync());
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, web.Socket.CloseStatus);
        Assert.Contains("send each line as a text message", web.Socket.CloseStatusDescription);
        Assert.Equal($"*** {webNick} left lobby (connection closed)", await line.ReadLineAsync());
    }

    [Fact]
    public async Task Bad_UTF8_in_a_text_message_closes_with_1007()
    {
        await using var host = await WebHost.StartAsync();
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        using var line = await JoinLineAsync(host);
        await web.ReadLineAsync();

        await web.SendRawAsync([(byte)'h', 0xC3, 0x28, (byte)'i']);
        await web.ReadToCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, web.Socket.CloseStatus);
        Assert.Equal($"*** {webNick} left lobby (connection closed)", await line.ReadLineAsync());
    }

    [Fact]
    public async Task A_message_over_the_line_limit_gets_the_chat_notice_and_the_session_goes_on()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Chat:MaxLineBytes"] = "256" });
        var (web, webNick) = await WebSocketLineClient.JoinChatAsync(host);
        using var _ = web;
        using var line = await JoinLineAsync(host);
        await web.ReadLineAsync();

        await web.SendAsync(new string('x', 100_000));
        Assert.Equal("!!! Line too long (max 256 bytes); discarded.", await web.ReadLineAsync());
        await web.SendAsync("still here");
        Assert.Equal($"<{webNick}> still here", await line.ReadLineAsync());
    }

    [Fact]
    public async Task WebSocket_users_show_in_connections_with_nick_and_room()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Http:ConnectionsEndpoint"] = "true" });
        var (web, _) = await WebSocketLineClient.JoinChatAsync(host);
        using var _1 = web;
        await web.SendAsync("/nick webby");
        await web.SendAsync("/join games");
        await web.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        await web.SendAsync("/who");
        await web.ReadUntilAsync(l => l.StartsWith("*** games (1)", StringComparison.Ordinal));

        using var http = host.CreateHttpClient();
        var connection = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("connections"))!);
        Assert.Equal("Web", connection.GetProperty("listener").GetString());
        Assert.Equal("webby", connection.GetProperty("nick").GetString());
        Assert.Equal("games", connection.GetProperty("room").GetString());
    }

    [Fact]
    public async Task A_subprotocol_the_client_offers_is_never_chosen()
    {
        await using var host = await WebHost.StartAsync();
        using var web = await WebSocketLineClient.ConnectAsync(host, "/ws/chat", o => o.AddSubProtocol("chat"));
        Assert.Null(web.Socket.SubProtocol);
        Assert.StartsWith("*** Welcome to EchoHost chat, guest-", await web.ReadLineAsync());
    }

    [Fact]
    public async Task A_page_of_another_origin_may_not_open_the_chat()
    {
        await using var host = await WebHost.StartAsync();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            WebSocketLineClient.ConnectAsync(host, "/ws/chat", o => o.SetRequestHeader("Origin", "http://elsewhere.example")));
        Assert.Contains("403", refused.Message);
    }

    [Fact]
    public async Task A_WebSocket_client_that_never_reads_is_cut_as_a_slow_reader()
    {
        const int messages = 6000;
        await using var host = await WebHost.StartAsync(new()
        {
            // Inside the flood allowance: this test is about the slow reader, not flood control.
            ["EchoHost:Chat:FloodBurst"] = "100000",
            ["EchoHost:Chat:FloodLinesPerSecond"] = "100000",
            ["EchoHost:Chat:MaxQueuedBytes"] = "131072",
        });
        // Never reads after its greeting; a small receive window so it stops taking data early.
        var slow = new ClientWebSocket();
        slow.Options.SetBuffer(4096, 4096);
        await slow.ConnectAsync(host.WebSocketUri("/ws/chat"), TestTimeouts.Token());
        var web = new WebSocketLineClient(slow);
        await web.ReadUntilAsync(l => l.StartsWith("*** You are now in lobby", StringComparison.Ordinal));
        using var sender = await JoinLineAsync(host);

        // ~6 MB for the slow user: more than its queue, the bridge's pipe and the socket buffers hold.
        var text = new string('m', 1000);
        var drain = Task.Run(async () => await sender.ReadUntilAsync(l => l.Contains("left lobby (too slow to read)", StringComparison.Ordinal)));
        for (var i = 0; i < messages; i++)
        {
            await sender.SendAsync($"{i}:{text}");
        }

        await drain.WaitAsync(TestTimeouts.Long);
        await host.Logs.WaitForAsync(e => e.Message.Contains("disconnected as a slow reader"));

        // Now it reads: what was in flight, never all of it, then the end (a close frame or the aborted connection).
        var received = 0;
        try
        {
            while (await web.ReadLineAsync() is { } line)
            {
                received += line.EndsWith(text, StringComparison.Ordinal) ? 1 : 0;
            }
        }
        catch (WebSocketException)
        {
            // The close grace aborted the connection before its close frame got through.
        }

        Assert.InRange(received, 0, messages - 1);
        Assert.NotEqual(WebSocketState.Open, slow.State);
        if (slow.CloseStatus is { } status)
        {
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        }

        slow.Dispose();
    }
}
