using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// The operator's page on the HTTP endpoint: the HTML a browser gets at <c>/</c> (curl keeps its line of text), and
/// <c>/status.json</c>, whose counts the page polls, moved by real clients on real sockets.
/// </summary>
public sealed class StatusPageTests
{
    /// <summary>What Chromium sends for a page it navigates to.</summary>
    internal const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

    private static Dictionary<string, string?> Config(bool connectionsEndpoint = false) => new(UdpConfig.Listener())
    {
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
        ["EchoHost:Listeners:Web:Protocol"] = "Web",
        ["EchoHost:Listeners:Web:Port"] = "0",
        ["EchoHost:Listeners:Off:Protocol"] = "Echo",
        ["EchoHost:Listeners:Off:Port"] = "7007",
        ["EchoHost:Listeners:Off:Enabled"] = "false",
        ["EchoHost:Http:ConnectionsEndpoint"] = connectionsEndpoint ? "true" : "false",
    };

    [Fact]
    public async Task Json_counts_follow_tcp_connections_bytes_udp_datagrams_and_chat_users()
    {
        await using var host = await TestHost.StartAsync(Config());
        using var http = host.CreateHttpClient();

        var before = await StatusAsync(http);
        Assert.Equal(0, Count(before, "Echo", "connections"));
        Assert.Equal(0, Count(before, "Echo", "bytesIn"));
        Assert.Null(Count(before, "Echo", "datagramsIn"));
        Assert.Null(Count(before, "Echo", "chatUsers"));
        Assert.Null(Count(before, "UdpEcho", "connections"));
        Assert.Equal(0, Count(before, "UdpEcho", "datagramsIn"));
        Assert.Equal(0, Count(before, "Chat", "chatUsers"));

        // TCP: a connection open and the bytes it echoed.
        using (var echo = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await echo.AssertEchoesAsync("status page\n");
            await UntilAsync(http, s => Count(s, "Echo", "connections") == 1 && Count(s, "Echo", "bytesIn") == 12 && Count(s, "Echo", "bytesOut") == 12);
        }

        await UntilAsync(http, s => Count(s, "Echo", "connections") == 0);

        // UDP: a datagram each way.
        using (var udp = UdpTestSockets.Bind(IPAddress.Loopback))
        {
            await udp.EchoAsync(host.UdpEndPoint(), Encoding.ASCII.GetBytes("hello"));
            await UntilAsync(http, s => Count(s, "UdpEcho", "datagramsIn") == 1 && Count(s, "UdpEcho", "datagramsOut") == 1
                && Count(s, "UdpEcho", "bytesIn") == 5 && Count(s, "UdpEcho", "bytesOut") == 5);
        }

        // Chat: a user signed in, then gone.
        using (var chat = await ChatClient.ConnectAsync(host.EndPoint("Chat")))
        {
            await UntilAsync(http, s => Count(s, "Chat", "chatUsers") == 1 && Count(s, "Chat", "connections") == 1);
        }

        await UntilAsync(http, s => Count(s, "Chat", "chatUsers") == 0 && Count(s, "Chat", "connections") == 0);
    }

    [Fact]
    public async Task Json_lists_every_listener_with_its_state_and_the_http_endpoints()
    {
        await using var host = await TestHost.StartAsync(Config());
        using var http = host.CreateHttpClient();

        var status = await StatusAsync(http);

        Assert.True(status.GetProperty("ready").GetBoolean());
        Assert.Equal(["Chat", "Echo", "Off", "UdpEcho", "Web"], status.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("name").GetString()).Order());
        var echo = Listener(status, "Echo");
        Assert.Equal(("echo", "tcp", "bound", host.EndPoint().ToString()), (Text(echo, "protocol"), Text(echo, "transport"), Text(echo, "state"), Text(echo, "address")));
        var udp = Listener(status, "UdpEcho");
        Assert.Equal(("udpecho", "udp", "bound", host.UdpEndPoint().ToString()), (Text(udp, "protocol"), Text(udp, "transport"), Text(udp, "state"), Text(udp, "address")));
        // A listener of any registered protocol shows, with the counts its protocol has.
        var web = Listener(status, "Web");
        Assert.Equal(("web", "tcp", "bound", host.EndPoint("Web").ToString()), (Text(web, "protocol"), Text(web, "transport"), Text(web, "state"), Text(web, "address")));
        Assert.Equal(0, Count(status, "Web", "connections"));
        var off = Listener(status, "Off");
        Assert.Equal(("echo", "disabled", "127.0.0.1:7007"), (Text(off, "protocol"), Text(off, "state"), Text(off, "address")));
        Assert.Null(Count(status, "Off", "connections"));

        var links = status.GetProperty("links");
        Assert.Equal(("/metrics", "/healthz", "/readyz"), (Text(links, "metrics"), Text(links, "healthz"), Text(links, "readyz")));
        Assert.Equal(JsonValueKind.Null, links.GetProperty("connections").ValueKind);
        Assert.Equal("set EchoHost:Http:ConnectionsEndpoint=true to list live connections", Text(links, "connectionsOff"));
        Assert.False(links.TryGetProperty("connectionsOn", out _));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("*/*", false)] // curl
    [InlineData("text/plain", false)]
    [InlineData("application/json", false)]
    [InlineData("text/html, text/plain", false)] // a tie with text named: the text stays
    [InlineData("text/html;q=0.5, text/plain", false)]
    [InlineData("text/html;q=0, */*", false)]
    [InlineData("not a media type;;", false)]
    [InlineData("text/html", true)]
    [InlineData("text/html, */*;q=0.1", true)]
    [InlineData("text/plain;q=0.5, text/html", true)]
    [InlineData(BrowserAccept, true)] // Chromium
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true)] // Firefox
    public async Task Root_is_html_only_when_html_is_preferred(string? accept, bool html)
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        using var response = await GetRootAsync(http, accept);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Accept", response.Headers.Vary);
        var body = await response.Content.ReadAsStringAsync(TestTimeouts.Token());
        if (html)
        {
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("<!doctype html>", body);
            Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        }
        else
        {
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith($"EchoHost on {Environment.MachineName}: Echo (echo) on {host.EndPoint()}/tcp\n", body);
            Assert.Contains(" /status.json (listeners and live counts, JSON; a browser gets them as a page here)\n", body);
            Assert.False(response.Headers.Contains("Content-Security-Policy"));
        }
    }

    [Fact]
    public async Task Page_shows_every_listener_with_its_counts_and_links_the_http_endpoints()
    {
        await using var host = await TestHost.StartAsync(Config());
        using var http = host.CreateHttpClient();

        var page = await PageAsync(http);

        foreach (var (name, protocol) in new[] { ("Echo", "echo (tcp)"), ("UdpEcho", "udpecho (udp)"), ("Chat", "chat (tcp)"), ("Web", "web (tcp)"), ("Off", "echo") })
        {
            Assert.Contains($"<tr data-listener=\"{name}\">", page);
            Assert.Contains($"<th scope=\"row\">{name}</th>", page);
            Assert.Contains($"<td data-label=\"Protocol\">{protocol}", page);
        }

        Assert.Contains($"data-field=\"address\" class=\"address\">{host.EndPoint()}</td>", page);
        Assert.Contains("<span class=\"state state-disabled\">disabled</span>", page);
        Assert.Equal(4, CountOf(page, "<span class=\"state state-bound\">bound</span>"));
        foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/status.json" })
        {
            Assert.Contains($"<a href=\"{path}\">", page);
        }

        // Off by default: named with the key that turns it on, not linked.
        Assert.DoesNotContain("href=\"/connections\"", page);
        Assert.Contains("EchoHost:Http:ConnectionsEndpoint=true", page);
        Assert.Contains("<script src=\"/status.js\" defer></script>", page);
    }

    [Fact]
    public async Task Page_links_connections_when_on_and_neither_page_nor_json_shows_a_client_address()
    {
        await using var host = await TestHost.StartAsync(Config(connectionsEndpoint: true));
        using var http = host.CreateHttpClient();
        using var echo = await SocketExtensions.ConnectAsync(host.EndPoint());
        await echo.AssertEchoesAsync();
        using var chat = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await UntilAsync(http, s => Count(s, "Echo", "connections") == 1 && Count(s, "Chat", "chatUsers") == 1);

        var page = await PageAsync(http);
        var json = await http.GetStringAsync("status.json", TestTimeouts.Token());

        Assert.Contains("<a href=\"/connections\">", page);
        // The clients are on /connections (it is on); the page and the JSON name neither their addresses nor the nick.
        var connections = await http.GetStringAsync("connections", TestTimeouts.Token());
        foreach (var client in new[] { echo, chat.Socket })
        {
            var port = ((IPEndPoint)client.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains($":{port}", connections);
            Assert.DoesNotContain($":{port}", page);
            Assert.DoesNotContain($":{port}", json);
        }

        Assert.Contains(chat.Nick, connections);
        Assert.DoesNotContain(chat.Nick, page);
        Assert.DoesNotContain(chat.Nick, json);
    }

    [Fact]
    public async Task Assets_come_from_the_binary_with_the_same_policy()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        foreach (var (path, type, marker) in new[] { ("status.css", "text/css", "prefers-color-scheme"), ("status.js", "text/javascript", "/status.json") })
        {
            using var response = await http.GetAsync(path, TestTimeouts.Token());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains(marker, await response.Content.ReadAsStringAsync(TestTimeouts.Token()));
        }
    }

    internal static async Task<HttpResponseMessage> GetRootAsync(HttpClient http, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return await http.SendAsync(request, TestTimeouts.Token());
    }

    private static async Task<string> PageAsync(HttpClient http)
    {
        using var response = await GetRootAsync(http, BrowserAccept);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync(TestTimeouts.Token());
    }

    internal static async Task<JsonElement> StatusAsync(HttpClient http)
    {
        using var response = await http.GetAsync("status.json", TestTimeouts.Token());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" }, response.Content.Headers.ContentType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestTimeouts.Token()));
        return document.RootElement.Clone();
    }

    /// <summary>Polls <c>/status.json</c> until <paramref name="condition"/> holds; fails with the last answer after the test timeout.</summary>
    internal static async Task UntilAsync(HttpClient http, Func<JsonElement, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        JsonElement status;
        while (!condition(status = await StatusAsync(http)))
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"/status.json never got there; last: {status}");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    internal static JsonElement Listener(JsonElement status, string name) =>
        status.GetProperty("listeners").EnumerateArray().Single(l => l.GetProperty("name").GetString() == name);

    internal static long? Count(JsonElement status, string listener, string field) =>
        Listener(status, listener).GetProperty(field) is { ValueKind: JsonValueKind.Number } value ? value.GetInt64() : null;

    private static string? Text(JsonElement element, string property) => element.GetProperty(property).GetString();

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}
