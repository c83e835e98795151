using System.Net;
using EchoHost.Baseline;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Web;

namespace EchoHost.Tests.Load;

/// <summary>
/// echohost-load over WebSocket (<c>--target ws://…</c>) for a second against the real EchoHost's Web listener
/// (in-process, port 0) and against the bare ASP.NET Core WebSocket echo of the benchmark.
/// </summary>
public sealed class WebSocketLoadTests
{
    // 70,000 bytes: more than one of the client's 64 KiB sends, and more than the baseline's 4 KiB receive buffer.
    public static TheoryData<string[]> PingPongOptions => new()
    {
        { ["--connections", "4", "--size", "100"] },
        { ["--connections", "2", "--size", "70000"] },
    };

    [Theory]
    [MemberData(nameof(PingPongOptions))]
    public async Task Pingpong_against_the_bare_WebSocket_echo_verifies_every_byte(string[] options)
    {
        await using var server = await WebSocketEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));

        var run = await LoadClientRun.RunAsync(["pingpong", "--target", $"ws://{server.EndPoint}/ws/echo", "--duration", "1", "--json", .. options]);

        run.AssertClean(minOps: 10);
        Assert.Equal(run.Number("ops") * int.Parse(options[3]), run.Number("bytes"));
    }

    [Fact]
    public async Task Pingpong_against_EchoHosts_ws_echo_verifies_every_byte_and_a_url_without_a_path_means_ws_echo()
    {
        await using var host = await WebHost.StartAsync();

        var run = await LoadClientRun.RunAsync("pingpong", "--target", $"ws://{host.EndPoint("Web")}", "--connections", "4", "--size", "1000", "--duration", "1", "--json");

        run.AssertClean(minOps: 10);
        Assert.Equal($"ws://{host.EndPoint("Web")}", run.Json.GetProperty("target").GetString());
    }

    [Fact]
    public async Task A_message_over_EchoHosts_limit_fails_with_the_servers_close_status_and_reason()
    {
        await using var host = await WebHost.StartAsync(new() { ["EchoHost:Listeners:Web:MaxMessageBytes"] = "1000" });

        var run = await LoadClientRun.RunAsync("pingpong", "--target", $"ws://{host.EndPoint("Web")}/ws/echo", "--connections", "1", "--size", "1001", "--duration", "1", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, run.Number("errors"));
        Assert.Contains("closed by the server (1009 message over 1000 bytes", run.Json.GetProperty("firstError").GetString());
    }

    [Fact]
    public async Task An_upgrade_refused_is_reported_with_the_servers_status_line()
    {
        await using var server = await WebSocketEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));

        var run = await LoadClientRun.RunAsync("pingpong", "--target", $"ws://{server.EndPoint}/elsewhere", "--connections", "1", "--duration", "1", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("upgrading to a WebSocket failed: the server did not upgrade to a WebSocket: HTTP/1.1 404 Not Found", run.Json.GetProperty("firstError").GetString());
    }

    [Fact]
    public async Task A_plain_echo_server_is_no_WebSocket_and_says_so()
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));

        // The TCP echo sends the upgrade request back: its first line is no HTTP status.
        var run = await LoadClientRun.RunAsync("pingpong", "--target", $"ws://{server.EndPoint}/ws/echo", "--connections", "1", "--duration", "1", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("the server did not upgrade to a WebSocket: GET /ws/echo HTTP/1.1", run.Json.GetProperty("firstError").GetString());
    }

    [Fact]
    public async Task Chat_over_ws_chat_makes_every_delivery_exactly_once()
    {
        await using var host = await WebHost.StartAsync();

        // 10 users, 2 lines/s each: within the shipped flood control (5 lines/s, burst 20), as on TCP.
        var run = await LoadClientRun.RunAsync("chat", "--target", $"ws://{host.EndPoint("Web")}/ws/chat", "--connections", "10", "--rate", "20", "--duration", "1.5", "--json");

        AssertEveryDelivery(run, users: 10);
    }

    [Theory]
    [InlineData("echohost", "Chat", "/ws/chat")]
    [InlineData("irc", "Irc", "/ws/irc")]
    public async Task WebSocket_and_TCP_users_in_one_room_each_get_every_line(string dialect, string tcpListener, string path)
    {
        await using var host = await WebHost.StartAsync();

        // Users take turns over the targets: half over WebSocket, half over TCP, all in one room.
        var run = await LoadClientRun.RunAsync("chat", "--dialect", dialect, "--target", $"ws://{host.EndPoint("Web")}{path},{host.EndPoint(tcpListener)}",
            "--connections", "10", "--rate", "20", "--duration", "1.5", "--json");

        AssertEveryDelivery(run, users: 10);
    }

    [Fact]
    public async Task Pingpong_and_chat_over_wss_against_EchoHosts_Web_listener_with_TLS()
    {
        using var certificates = new TestCertificates();
        certificates.WritePem();
        await using var host = await WebHost.StartAsync(certificates.PemConfig("Web"));
        var url = $"wss://localhost:{host.EndPoint("Web").Port}";

        var pingpong = await LoadClientRun.RunAsync("pingpong", "--target", $"{url}/ws/echo", "--connections", "2", "--size", "100", "--duration", "1", "--json");
        var chat = await LoadClientRun.RunAsync("chat", "--target", $"{url}/ws/chat", "--connections", "4", "--rate", "8", "--duration", "1.5", "--json");

        pingpong.AssertClean(minOps: 5);
        AssertEveryDelivery(chat, users: 4, minOps: 12);
    }

    private static void AssertEveryDelivery(LoadClientRun run, int users, int minOps = 50)
    {
        run.AssertClean(minOps);
        var chat = run.Json.GetProperty("chat");
        Assert.True(chat.GetProperty("linesSent").GetInt64() >= users, run.ToString());
        Assert.Equal(chat.GetProperty("linesSent").GetInt64() * (users - 1), chat.GetProperty("delivered").GetInt64());
        Assert.Equal(0, chat.GetProperty("missing").GetInt64());
        Assert.Equal(0, chat.GetProperty("duplicates").GetInt64());
    }
}
