using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>The HTTP echo as curl sees it, on the real host with one Web listener.</summary>
public sealed class HttpEchoCurlTests
{
    private static Task<TestHost> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Web:Protocol"] = "Web",
            ["EchoHost:Listeners:Web:Port"] = "0",
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        return TestHost.StartAsync(config);
    }

    private static string Url(TestHost host, string pathAndQuery) => $"http://{host.EndPoint("Web")}{pathAndQuery}";

    [ToolFact(ExternalTools.Curl)]
    public async Task Curl_gets_the_request_back_as_json_with_the_client_and_who_answered()
    {
        await using var host = await StartAsync();

        var response = await HttpEchoCurl.RunAsync(Url(host, "/echo/a/b?x=1&x=2&y=%C3%A9&flag"), "-H", "X-Test: hello");

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("no-store", response.Header("Cache-Control"));
        var json = response.Json;
        Assert.Equal("GET", json.GetProperty("method").GetString());
        Assert.Equal("/echo/a/b", json.GetProperty("path").GetString());
        Assert.Equal("/echo/a/b?x=1&x=2&y=%C3%A9&flag", json.GetProperty("target").GetString());
        Assert.Equal("HTTP/1.1", json.GetProperty("protocol").GetString());
        var query = json.GetProperty("query");
        Assert.Equal(["1", "2"], query.GetProperty("x").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("é", Assert.Single(query.GetProperty("y").EnumerateArray()).GetString());
        Assert.Equal("", Assert.Single(query.GetProperty("flag").EnumerateArray()).GetString());
        Assert.Equal("hello", json.GetProperty("headers").GetProperty("X-Test").GetString());
        Assert.StartsWith("curl/", json.GetProperty("headers").GetProperty("User-Agent").GetString());
        Assert.Equal(0, json.GetProperty("body").GetProperty("bytes").GetInt64());

        var client = json.GetProperty("client");
        Assert.Equal("127.0.0.1", client.GetProperty("address").GetString());
        Assert.Equal("socket", client.GetProperty("source").GetString());
        Assert.StartsWith("127.0.0.1:", client.GetProperty("peer").GetString());
        Assert.Equal(JsonValueKind.Null, client.GetProperty("forwarded").ValueKind);
        Assert.Equal(JsonValueKind.Null, client.GetProperty("proxyProtocol").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("tls").ValueKind);

        var server = json.GetProperty("server");
        Assert.Equal(Environment.MachineName, server.GetProperty("host").GetString());
        Assert.Equal("Web", server.GetProperty("listener").GetString());
        Assert.Equal(host.EndPoint("Web").ToString(), server.GetProperty("local").GetString());
        Assert.Equal(200, json.GetProperty("response").GetProperty("status").GetInt32());
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_client_that_asks_for_text_plain_gets_text()
    {
        await using var host = await StartAsync();

        var response = await HttpEchoCurl.RunAsync(Url(host, "/echo?x=1"), "-H", "Accept: text/plain", "--data-binary", "hello");

        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.StartsWith("POST /echo?x=1 HTTP/1.1\n", response.Body);
        Assert.Contains("\nAccept: text/plain\n", response.Body);
        Assert.Contains("\nclient: 127.0.0.1 (socket; peer 127.0.0.1:", response.Body);
        Assert.Contains($"\nserver: host={Environment.MachineName} pod=", response.Body);
        Assert.Contains(" listener=Web ", response.Body);
        Assert.EndsWith("\nbody: 5 bytes, utf-8\n\nhello\n", response.Body);
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_utf8_body_comes_back_as_text_and_any_other_as_base64()
    {
        await using var host = await StartAsync();
        var binary = Path.GetTempFileName();
        await File.WriteAllBytesAsync(binary, [0xFF, 0xFE, 0x00, 0x80, (byte)'a']);
        try
        {
            var text = (await HttpEchoCurl.RunAsync(Url(host, "/echo"), "--data-binary", "grüß dich")).Json.GetProperty("body");
            var bytes = (await HttpEchoCurl.RunAsync(Url(host, "/echo"), "-X", "PUT", "--data-binary", $"@{binary}")).Json.GetProperty("body");

            Assert.Equal("utf-8", text.GetProperty("encoding").GetString());
            Assert.Equal("grüß dich", text.GetProperty("text").GetString());
            Assert.Equal(Encoding.UTF8.GetByteCount("grüß dich"), text.GetProperty("bytes").GetInt64());
            Assert.Equal("base64", bytes.GetProperty("encoding").GetString());
            Assert.Equal(Convert.ToBase64String([0xFF, 0xFE, 0x00, 0x80, (byte)'a']), bytes.GetProperty("base64").GetString());
            Assert.Equal(JsonValueKind.Null, bytes.GetProperty("text").ValueKind);
            Assert.False(bytes.GetProperty("truncated").GetBoolean());
        }
        finally
        {
            File.Delete(binary);
        }
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_body_over_MaxEchoBodyBytes_is_read_whole_counted_and_cut()
    {
        await using var host = await StartAsync(new() { ["EchoHost:Listeners:Web:MaxEchoBodyBytes"] = "1000" });
        var file = Path.GetTempFileName();
        // 3 MB of a two-byte character: the cut at 1000 bytes falls between characters, at 999 it would not.
        await File.WriteAllTextAsync(file, new string('é', 1_500_000), new UTF8Encoding(false));
        try
        {
            var response = await HttpEchoCurl.RunAsync(Url(host, "/echo"), "--data-binary", $"@{file}");
            var cutMidCharacter = await StartAsync(new() { ["EchoHost:Listeners:Web:MaxEchoBodyBytes"] = "999" });
            await using var _ = cutMidCharacter;
            var odd = (await HttpEchoCurl.RunAsync(Url(cutMidCharacter, "/echo"), "--data-binary", $"@{file}")).Json.GetProperty("body");

            Assert.Equal(200, response.Status);
            var body = response.Json.GetProperty("body");
            Assert.Equal(3_000_000, body.GetProperty("bytes").GetInt64());
            Assert.Equal(1000, body.GetProperty("echoedBytes").GetInt32());
            Assert.True(body.GetProperty("truncated").GetBoolean());
            Assert.Equal(new string('é', 500), body.GetProperty("text").GetString());
            Assert.Equal("utf-8", odd.GetProperty("encoding").GetString());
            Assert.Equal(new string('é', 499), odd.GetProperty("text").GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task The_status_knob_comes_from_the_query_or_a_header()
    {
        await using var host = await StartAsync();

        var fromQuery = await HttpEchoCurl.RunAsync(Url(host, "/echo?status=503"));
        var fromHeader = await HttpEchoCurl.RunAsync(Url(host, "/echo/x"), "-H", "X-Echo-Status: 418");
        var both = await HttpEchoCurl.RunAsync(Url(host, "/echo?status=201"), "-H", "X-Echo-Status: 500");
        var noContent = await HttpEchoCurl.RunAsync(Url(host, "/echo?status=204"));

        Assert.Equal(503, fromQuery.Status);
        Assert.Equal(503, fromQuery.Json.GetProperty("response").GetProperty("status").GetInt32());
        Assert.Equal(418, fromHeader.Status);
        Assert.Equal("/echo/x", fromHeader.Json.GetProperty("path").GetString());
        Assert.Equal(201, both.Status);
        Assert.Equal(204, noContent.Status);
        Assert.Equal("", noContent.Body);
        Assert.Equal("no-store", noContent.Header("Cache-Control"));
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task The_delay_knob_comes_from_the_query_or_a_header()
    {
        await using var host = await StartAsync();

        var fromQuery = await HttpEchoCurl.RunAsync(Url(host, "/echo?delay=20ms"));
        var fromHeader = await HttpEchoCurl.RunAsync(Url(host, "/echo"), "-H", "X-Echo-Delay: 0.05s");
        var bare = await HttpEchoCurl.RunAsync(Url(host, "/echo?delay=30&status=202"));

        Assert.Equal(20, fromQuery.Json.GetProperty("response").GetProperty("delayMs").GetInt64());
        Assert.Equal(50, fromHeader.Json.GetProperty("response").GetProperty("delayMs").GetInt64());
        Assert.Equal(202, bare.Status);
        Assert.Equal(30, bare.Json.GetProperty("response").GetProperty("delayMs").GetInt64());
    }

    [ToolTheory(ExternalTools.Curl)]
    [InlineData("/echo?status=abc", "status: 'abc' is not a status code from 200 to 599")]
    [InlineData("/echo?status=199", "status: '199' is not a status code from 200 to 599")]
    [InlineData("/echo?status=600", "status: '600' is not a status code from 200 to 599")]
    [InlineData("/echo?status=200&status=500", "status: ?status= given 2 times; give it once")]
    [InlineData("/echo?delay=soon", "delay: 'soon' is not a duration; write one such as 250ms, 2s or 1.5s")]
    [InlineData("/echo?delay=-1s", "delay: '-1s' is not a duration; write one such as 250ms, 2s or 1.5s")]
    [InlineData("/echo?delay=2s", "delay: 2s is over this listener's MaxEchoDelay (1s)")]
    [InlineData("/echo?delay=1001ms", "delay: 1001ms is over this listener's MaxEchoDelay (1s)")]
    public async Task A_bad_knob_gets_a_400_with_one_line_that_says_why(string pathAndQuery, string reason)
    {
        await using var host = await StartAsync(new() { ["EchoHost:Listeners:Web:MaxEchoDelay"] = "00:00:01" });

        var response = await HttpEchoCurl.RunAsync(Url(host, pathAndQuery));

        Assert.Equal(400, response.Status);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal(reason + "\n", response.Body);
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_bad_knob_in_a_header_is_named_too()
    {
        await using var host = await StartAsync();

        var response = await HttpEchoCurl.RunAsync(Url(host, "/echo"), "-H", "X-Echo-Delay: 1h");
        var unknown = await HttpEchoCurl.RunAsync(Url(host, "/echo"), "-H", "X-Echo-Status: ok");

        Assert.Equal(400, response.Status);
        Assert.Equal("delay: 1h is over this listener's MaxEchoDelay (10s)\n", response.Body);
        Assert.Equal("status: 'ok' is not a status code from 200 to 599\n", unknown.Body);
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task Head_gets_the_headers_of_the_answer_and_no_body()
    {
        await using var host = await StartAsync();

        var head = await HttpEchoCurl.RunAsync(Url(host, "/echo/head"), "-I");
        var get = await HttpEchoCurl.RunAsync(Url(host, "/echo/head"), "-X", "GET");

        Assert.Equal(200, head.Status);
        Assert.Equal("application/json; charset=utf-8", head.Header("Content-Type"));
        Assert.Equal("no-store", head.Header("Cache-Control"));
        Assert.True(int.Parse(head.Header("Content-Length"), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal("", head.Body);
        Assert.Equal("GET", get.Json.GetProperty("method").GetString());
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_delay_in_progress_ends_at_shutdown_with_a_503()
    {
        var host = await StartAsync(new() { ["EchoHost:Listeners:Web:MaxEchoDelay"] = "00:05:00" });
        await using var _ = host;
        var waiting = HttpEchoCurl.RunAsync(Url(host, "/echo?delay=5m"));
        await host.Logs.WaitForAsync(e => e.Message.Contains("waits 300s before it answers"));

        await host.StopAsync();
        var response = await waiting;

        Assert.Equal(503, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal("delay cut short: EchoHost is shutting down\n", response.Body);
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task A_client_that_leaves_during_a_delay_ends_the_wait_and_its_connection()
    {
        await using var host = await StartAsync(new()
        {
            ["EchoHost:Listeners:Web:MaxEchoDelay"] = "00:05:00",
            ["EchoHost:Http:ConnectionsEndpoint"] = "true",
        });

        var gone = await ExternalTools.RunAsync(ExternalTools.Curl, ["-sS", "--max-time", "1", Url(host, "/echo?delay=5m")]);

        Assert.Equal(28, gone.ExitCode); // curl's "operation timed out": it hung up while the echo waited
        // Kestrel keeps the connection (and /connections lists it) until the request's handler returns, which it
        // does when the abort ends the wait, not five minutes later.
        using var http = host.CreateHttpClient();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        JsonElement[] web;
        do
        {
            var all = await http.GetFromJsonAsync<JsonElement[]>("connections");
            web = [.. all!.Where(c => c.GetProperty("listener").GetString() == "Web")];
            if (web.Length > 0)
            {
                await Task.Delay(50);
            }
        }
        while (web.Length > 0 && DateTime.UtcNow < deadline);

        Assert.Empty(web);
    }

    [ToolFact(ExternalTools.Curl)]
    public async Task Over_tls_the_echo_shows_the_protocol_cipher_and_the_name_the_client_asked_for()
    {
        using var certificates = new TestCertificates();
        certificates.WritePem();
        await using var host = await StartAsync(certificates.PemConfig("Web"));
        var port = host.EndPoint("Web").Port;

        var response = await HttpEchoCurl.RunAsync("-k", "--resolve", $"localhost:{port}:127.0.0.1", $"https://localhost:{port}/echo");

        var json = response.Json;
        Assert.Equal("https", json.GetProperty("scheme").GetString());
        var tls = json.GetProperty("tls");
        Assert.StartsWith("TLSv1.", tls.GetProperty("protocol").GetString());
        Assert.StartsWith("TLS_", tls.GetProperty("cipher").GetString());
        Assert.Equal("localhost", tls.GetProperty("sni").GetString());
    }
}
