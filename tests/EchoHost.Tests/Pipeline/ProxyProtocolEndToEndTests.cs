using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class ProxyProtocolEndToEndTests
{
    private static readonly IPEndPoint Front = IPEndPoint.Parse("198.51.100.1:443");

    private static Dictionary<string, string?> Config(string mode = "Any", string trusted = "127.0.0.1", int perIp = 0) => new()
    {
        ["EchoHost:Listeners:Echo:ProxyProtocol"] = mode,
        ["EchoHost:Listeners:Echo:TrustedProxies:0"] = trusted,
        ["EchoHost:Listeners:Echo:MaxConnectionsPerIp"] = perIp.ToString(),
        ["EchoHost:Listeners:Echo:Banner"] = "{remote}",
        ["EchoHost:Http:ConnectionsEndpoint"] = "true",
    };

    /// <summary>Connects as the proxy would, sends the header, and reads the banner, which names the client as the server sees it.</summary>
    private static async Task<(Socket Socket, string Banner)> ConnectThroughHeaderAsync(TestHost host, byte[] header)
    {
        var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.SendAllAsync(header);
        return (socket, await ReadLineAsync(socket));
    }

    private static async Task<string> ReadLineAsync(Socket socket)
    {
        var line = new List<byte>();
        var one = new byte[1];
        var token = TestTimeouts.Token();
        while (await socket.ReceiveAsync(one, SocketFlags.None, token) == 1 && one[0] != '\n')
        {
            line.Add(one[0]);
        }

        return Encoding.UTF8.GetString(line.ToArray()).TrimEnd('\r');
    }

    [Fact]
    public async Task The_address_in_the_header_is_the_client_in_banner_log_and_connections()
    {
        await using var host = await TestHost.StartAsync(Config());
        var client = IPEndPoint.Parse("203.0.113.7:51234");
        var (socket, banner) = await ConnectThroughHeaderAsync(host, ProxyHeaders.V2(client, Front));
        using var _ = socket;

        Assert.Equal("203.0.113.7:51234", banner);
        await socket.AssertEchoesAsync();
        await host.Logs.WaitForAsync(e => e.Message.Contains("accepted from 203.0.113.7:51234"));
        using var http = host.CreateHttpClient();
        var connections = await http.GetFromJsonAsync<JsonElement[]>("connections");
        Assert.Equal("203.0.113.7:51234", Assert.Single(connections!).GetProperty("remoteEndPoint").GetString());
    }

    [Fact]
    public async Task Per_ip_limits_count_the_client_in_the_header_not_the_proxy()
    {
        await using var host = await TestHost.StartAsync(Config(mode: "V1", perIp: 1));
        var (first, _) = await ConnectThroughHeaderAsync(host, ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.7:1000"), Front));
        var (other, _) = await ConnectThroughHeaderAsync(host, ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.8:1000"), Front));
        using var sameClient = await SocketExtensions.ConnectAsync(host.EndPoint());
        await sameClient.SendAllAsync(ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.7:1001"), Front));

        Assert.True(await sameClient.WaitForServerCloseAsync());
        await first.AssertEchoesAsync();
        await other.AssertEchoesAsync();
        await host.Logs.WaitForAsync(e => e.Message.Contains("refused 203.0.113.7:1001: per-IP limit reached"));
        first.Dispose();
        other.Dispose();
    }

    [Fact]
    public async Task Untrusted_peers_and_bad_headers_are_closed_logged_and_counted_by_reason()
    {
        await using var host = await TestHost.StartAsync(Config(trusted: "127.0.0.2"));
        using (var untrusted = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await untrusted.SendAllAsync(ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.7:1"), Front));
            Assert.True(await untrusted.WaitForServerCloseAsync());
        }

        using (var garbage = await SocketExtensions.ConnectAsync(host.EndPoint(), from: IPAddress.Parse("127.0.0.2")))
        {
            await garbage.SendAllAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray());
            Assert.True(await garbage.WaitForServerCloseAsync());
        }

        var untrustedLine = await host.Logs.WaitForAsync(e => e.Message.Contains("not a trusted proxy"));
        var badLine = await host.Logs.WaitForAsync(e => e.Message.Contains("bad PROXY protocol header"));
        Assert.Equal(LogLevel.Information, untrustedLine.Level);
        Assert.Equal(LogLevel.Information, badLine.Level);
        Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains("accepted from"));
        var samples = await host.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "proxy_untrusted")));
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "proxy_header_invalid")));
        Assert.Equal(0, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "proxy_header_timeout")));
    }

    [Fact]
    public async Task A_chat_user_behind_a_proxy_is_logged_and_listed_with_the_client_address_but_who_shows_nicks_only()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Listeners:Chat:ProxyProtocol"] = "V1",
            ["EchoHost:Listeners:Chat:TrustedProxies:0"] = "127.0.0.1",
            ["EchoHost:Http:ConnectionsEndpoint"] = "true",
        });
        var port = host.EndPoint("Chat").Port;
        using var ada = await ChatClient.ConnectAsync(host.EndPoint("Chat"),
            Encoding.ASCII.GetBytes($"PROXY TCP4 203.0.113.7 127.0.0.1 51234 {port}\r\n"));
        await ada.SendAsync("/nick ada");
        await ada.SendAsync("hello from behind the balancer");
        // /who answers after the lines before it were handled; other users see nicks, never addresses: /who is for
        // people, the log and /connections are for operators.
        await ada.SyncAsync();
        Assert.Equal("*** lobby (1): ada", ada.LastLine);

        var joined = await host.Logs.WaitForAsync(e => e.Message.Contains($"chat: {ada.Nick} joined lobby"));
        Assert.Contains("203.0.113.7:51234", joined.Message);
        using var http = host.CreateHttpClient();
        var connection = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("connections"))!);
        Assert.Equal("203.0.113.7:51234", connection.GetProperty("remoteEndPoint").GetString());
        Assert.Equal("ada", connection.GetProperty("nick").GetString());
    }

    [Fact]
    public async Task A_slowloris_header_is_cut_at_the_timeout_and_counted_once()
    {
        var config = Config(mode: "V1");
        config["EchoHost:Listeners:Echo:ProxyProtocolTimeout"] = "00:00:00.300";
        await using var host = await TestHost.StartAsync(config);
        using var slow = await SocketExtensions.ConnectAsync(host.EndPoint());

        // A byte at a time, each well within any read timeout, never a whole header: only the header's deadline ends it.
        var header = ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.7:51234"), Front);
        var closed = slow.WaitForServerCloseAsync();
        for (var i = 0; i < header.Length - 1 && !closed.IsCompleted; i++)
        {
            try
            {
                await slow.SendAllAsync(header.AsMemory(i, 1));
            }
            catch (SocketException)
            {
                break;  // the server closed it while we were still trickling
            }

            await Task.WhenAny(closed, Task.Delay(50));
        }

        Assert.True(await closed);
        await host.Logs.WaitForAsync(e => e.Message.Contains("no complete PROXY protocol header within 00:00:00.3000000"));
        var samples = await host.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "proxy_header_timeout")));
        Assert.Equal(0, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "proxy_header_invalid")));
    }

    [ToolFact(ExternalTools.Haproxy)]
    public async Task Behind_a_real_haproxy_the_server_sees_logs_and_limits_each_real_client()
    {
        await using var host = await TestHost.StartAsync(Config(perIp: 1));
        await using var haproxy = await HaproxyServer.StartAsync(host.EndPoint());

        // Each frontend gets clients of its own, so the first round's closes cannot race the second round's limits.
        foreach (var (frontend, aliceIp, bobIp) in new[] { (haproxy.SendProxyV1, "127.0.0.2", "127.0.0.3"), (haproxy.SendProxyV2, "127.0.0.4", "127.0.0.5") })
        {
            using var alice = await SocketExtensions.ConnectAsync(frontend, from: IPAddress.Parse(aliceIp));
            using var bob = await SocketExtensions.ConnectAsync(frontend, from: IPAddress.Parse(bobIp));
            Assert.Equal(alice.LocalEndPoint!.ToString(), await ReadLineAsync(alice));
            Assert.Equal(bob.LocalEndPoint!.ToString(), await ReadLineAsync(bob));
            await alice.AssertEchoesAsync();
            await bob.AssertEchoesAsync();

            // Alice's second connection is over her per-IP limit of 1; the proxy's own address is not what counts.
            using var aliceAgain = await SocketExtensions.ConnectAsync(frontend, from: IPAddress.Parse(aliceIp));
            Assert.True(await aliceAgain.WaitForServerCloseAsync());
            await host.Logs.WaitForAsync(e => e.Message.Contains($"refused {aliceAgain.LocalEndPoint}: per-IP limit reached"));
            await host.Logs.WaitForAsync(e => e.Message.Contains($"accepted from {alice.LocalEndPoint}"));
            await alice.AssertEchoesAsync();
        }
    }
}
