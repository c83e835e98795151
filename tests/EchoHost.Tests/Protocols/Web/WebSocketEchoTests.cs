using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary><c>/ws/echo</c> and the WebSocket rules every <c>/ws/…</c> path follows, with real sockets.</summary>
public sealed class WebSocketEchoTests
{
    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(WebSocket socket)
    {
        var data = new MemoryStream();
        var buffer = new byte[8192];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, TestTimeouts.Token());
            data.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return (result.MessageType, data.ToArray());
    }

    /// <summary>A raw client: the opening handshake written by hand, so a test controls every byte (and answers no ping).</summary>
    private static async Task<Socket> RawUpgradeAsync(TestHost host)
    {
        var socket = await SocketExtensions.ConnectAsync(host.EndPoint("Web"));
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        return socket;
    }

    /// <summary>A masked frame from a client: FIN set, <paramref name="opcode"/>, a payload under 126 bytes.</summary>
    private static byte[] ClientFrame(byte opcode, byte[] payload)
    {
        byte[] mask = [1, 2, 3, 4];
        return [(byte)(0x80 | opcode), (byte)(0x80 | payload.Length), .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    /// <summary>Everything the server sends until it ends the connection (a reset too), split into the HTTP head and the frames.</summary>
    private static async Task<(string Head, byte[] Frames)> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, TestTimeouts.Token())) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // An abort after the last frame: what came before it has been read.
        }

        var bytes = received.ToArray();
        var end = Encoding.ASCII.GetString(bytes).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        return (Encoding.ASCII.GetString(bytes, 0, end), bytes[end..]);
    }

    [Fact]
    public async Task Text_and_binary_messages_come_back_whole_and_of_their_kind()
    {
        await using var host = await WebHost.StartAsync();
        using var socket = await host.ConnectWebSocketAsync("/ws/echo");
        Assert.Null(socket.SubProtocol);

        await socket.SendAsync("héllo, wörld"u8.ToArray(), WebSocketMessageType.Text, true, TestTimeouts.Token());
        var (type, data) = await ReceiveAsync(socket);
        Assert.Equal((WebSocketMessageType.Text, "héllo, wörld"), (type, Encoding.UTF8.GetString(data)));

        // A binary message sent in three fragments comes back as one, byte for byte.
        var binary = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7)).ToArray();
        await socket.SendAsync(binary.AsMemory(0, 10), WebSocketMessageType.Binary, false, TestTimeouts.Token());
        await socket.SendAsync(binary.AsMemory(10, 30_000), WebSocketMessageType.Binary, false, TestTimeouts.Token());
        await socket.SendAsync(binary.AsMemory(30_010), WebSocketMessageType.Binary, true, TestTimeouts.Token());
        (type, data) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(binary, data);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestTimeouts.Token());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task A_message_over_the_limit_is_refused_with_1009_and_a_reason_and_one_at_the_limit_is_echoed()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Listeners:Web:MaxMessageBytes"] = "1000" });
        using var socket = await host.ConnectWebSocketAsync("/ws/echo");

        var atLimit = new byte[1000];
        await socket.SendAsync(atLimit, WebSocketMessageType.Binary, true, TestTimeouts.Token());
        Assert.Equal(1000, (await ReceiveAsync(socket)).Data.Length);

        await socket.SendAsync(new byte[1001], WebSocketMessageType.Binary, true, TestTimeouts.Token());
        var result = await socket.ReceiveAsync(new byte[100], TestTimeouts.Token());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Equal("message over 1000 bytes, the limit (MaxMessageBytes)", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Bad_utf8_in_a_text_message_closes_with_1007_and_others_are_unaffected()
    {
        await using var host = await WebHost.StartAsync();
        using var other = await host.ConnectWebSocketAsync("/ws/echo");
        using var socket = await RawUpgradeAsync(host);
        await socket.SendAsync(ClientFrame(0x1, [(byte)'o', (byte)'k', 0xC3, 0x28]));
        var (head, frames) = await ReadToEndAsync(socket);
        Assert.StartsWith("HTTP/1.1 101 ", head);
        // One close frame, code 1007 (invalid payload data).
        Assert.Equal([0x88, 0x02, 0x03, 0xEF], frames);

        await other.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, TestTimeouts.Token());
        Assert.Equal("still here", Encoding.UTF8.GetString((await ReceiveAsync(other)).Data));
    }

    [Fact]
    public async Task A_foreign_origin_is_refused_with_403_and_the_pages_own_and_configured_origins_are_accepted()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Listeners:Web:AllowedOrigins:0"] = "https://chat.example.org" });
        var port = host.EndPoint("Web").Port;

        using var foreign = new ClientWebSocket();
        foreign.Options.CollectHttpResponseDetails = true;
        foreign.Options.SetRequestHeader("Origin", "https://evil.example");
        await Assert.ThrowsAsync<WebSocketException>(() => foreign.ConnectAsync(host.WebSocketUri("/ws/echo"), TestTimeouts.Token()));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.HttpStatusCode);
        await host.Logs.WaitForAsync(e => e.Message.Contains("refused a WebSocket from origin https://evil.example", StringComparison.Ordinal));

        foreach (var origin in (string[])[$"http://127.0.0.1:{port}", "https://chat.example.org", "HTTPS://Chat.Example.org:443"])
        {
            using var allowed = await host.ConnectWebSocketAsync("/ws/echo", o => o.SetRequestHeader("Origin", origin));
            Assert.Equal(WebSocketState.Open, allowed.State);
        }
    }

    [Fact]
    public async Task Any_origin_is_accepted_with_a_star()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Listeners:Web:AllowedOrigins:0"] = "*" });
        using var socket = await host.ConnectWebSocketAsync("/ws/echo", o => o.SetRequestHeader("Origin", "https://anywhere.example"));
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task A_subprotocol_the_server_does_not_speak_is_never_chosen()
    {
        await using var host = await WebHost.StartAsync();
        using var socket = await host.ConnectWebSocketAsync("/ws/echo", o => o.AddSubProtocol("made.up.example"));
        Assert.Null(socket.SubProtocol);
        await socket.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, TestTimeouts.Token());
        Assert.Equal("x", Encoding.UTF8.GetString((await ReceiveAsync(socket)).Data));
    }

    [Fact]
    public async Task A_plain_get_of_a_websocket_path_is_a_400_that_says_so()
    {
        await using var host = await WebHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.HttpBase(), Timeout = TestTimeouts.Default };
        var response = await http.GetAsync("ws/echo", TestTimeouts.Token());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("/ws/echo is a WebSocket endpoint", await response.Content.ReadAsStringAsync());
        // The line repeats the request's path: never to be sniffed into a page.
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task The_web_listener_and_the_http_endpoint_never_serve_each_others_paths()
    {
        await using var host = await WebHost.StartAsync();
        using var web = new HttpClient { BaseAddress = host.HttpBase(), Timeout = TestTimeouts.Default };
        using var http = host.CreateHttpClient();
        foreach (var path in (string[])["metrics", "healthz", "readyz"])
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(path, TestTimeouts.Token())).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await web.GetAsync(path, TestTimeouts.Token())).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("ws/echo", TestTimeouts.Token())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("echo", TestTimeouts.Token())).StatusCode);
    }

    [Fact]
    public async Task A_client_that_never_answers_pings_is_closed()
    {
        await using var host = await WebHost.StartAsync(new()
        {
            ["EchoHost:Listeners:Web:KeepAliveInterval"] = "00:00:00.200",
            ["EchoHost:Listeners:Web:KeepAliveTimeout"] = "00:00:00.200",
        });

        // A raw client reads only: a ClientWebSocket would answer the pings by itself.
        using var socket = await RawUpgradeAsync(host);
        var (head, frames) = await ReadToEndAsync(socket);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", head);
        // The server pinged (opcode 9) before it gave up on the client.
        Assert.Equal(0x89, frames[0]);
    }

    [Fact]
    public async Task Web_sockets_count_against_the_per_ip_cap_and_the_one_over_it_is_refused()
    {
        const int cap = 2000;
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Listeners:Web:MaxConnectionsPerIp"] = $"{cap}" });
        var open = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < cap; i++)
            {
                open.Add(await host.ConnectWebSocketAsync("/ws/echo"));
            }

            using var refused = new ClientWebSocket();
            await Assert.ThrowsAnyAsync<Exception>(() => refused.ConnectAsync(host.WebSocketUri("/ws/echo"), TestTimeouts.Token()));

            // Every one of them still echoes.
            foreach (var socket in open.Take(3).Append(open[^1]))
            {
                await socket.SendAsync("ok"u8.ToArray(), WebSocketMessageType.Text, true, TestTimeouts.Token());
                Assert.Equal("ok", Encoding.UTF8.GetString((await ReceiveAsync(socket)).Data));
            }

            var metrics = PrometheusSamples.Parse(await host.CreateHttpClient().GetStringAsync("metrics", TestTimeouts.Token()));
            Assert.Equal(cap, metrics.Value("echohost_connections_active", ("echohost_listener", "Web"), ("echohost_protocol", "web")));
        }
        finally
        {
            foreach (var socket in open)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_silent_web_socket_without_pings_meets_the_idle_timeout_with_a_close_frame_saying_so()
    {
        await using var host = await WebHost.StartAsync(new()
        {
            ["EchoHost:Listeners:Web:IdleTimeout"] = "00:00:00.300",
            ["EchoHost:Listeners:Web:KeepAliveInterval"] = "00:00:00",
        });
        using var socket = await host.ConnectWebSocketAsync("/ws/echo");
        var result = await socket.ReceiveAsync(new byte[100], TestTimeouts.Token());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "idle timeout"), (socket.CloseStatus, socket.CloseStatusDescription));
    }

    [Fact]
    public async Task At_shutdown_a_web_socket_gets_a_close_frame_with_a_reason()
    {
        var host = await WebHost.StartAsync();
        using var socket = await host.ConnectWebSocketAsync("/ws/echo");
        var receive = socket.ReceiveAsync(new byte[100], TestTimeouts.Token());
        await host.DisposeAsync();
        var result = await receive;
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Equal("server shutting down", socket.CloseStatusDescription);
    }
}
