using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// The echo behind a real HAProxy, reached with the real curl from 127.0.0.5 (HAProxy's own connections come from
/// 127.0.0.1): the client it reports is the real one only when the proxy is trusted.
/// </summary>
public sealed class HttpEchoHaproxyTests
{
    private const string Client = "127.0.0.5";

    private static Task<TestHost> StartAsync(Dictionary<string, string?> extra)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Web:Protocol"] = "Web",
            ["EchoHost:Listeners:Web:Port"] = "0",
        };
        foreach (var (key, value) in extra)
        {
            config[key] = value;
        }

        return TestHost.StartAsync(config);
    }

    [ToolFact(ExternalTools.Haproxy, ExternalTools.Curl)]
    public async Task Through_send_proxy_v2_the_client_is_the_address_in_the_proxy_header()
    {
        await using var host = await StartAsync(new()
        {
            ["EchoHost:Listeners:Web:ProxyProtocol"] = "V2",
            ["EchoHost:Listeners:Web:TrustedProxies:0"] = "127.0.0.1",
        });
        await using var haproxy = await HaproxyServer.StartAsync(host.EndPoint("Web"));

        var json = (await HttpEchoCurl.RunAsync("--interface", Client, $"http://{haproxy.SendProxyV2}/echo",
            "-H", "X-Forwarded-For: 198.51.100.66")).Json;

        var client = json.GetProperty("client");
        Assert.Equal(Client, client.GetProperty("address").GetString());
        Assert.Equal("proxy-protocol", client.GetProperty("source").GetString());
        Assert.StartsWith($"{Client}:", client.GetProperty("peer").GetString());
        var proxy = client.GetProperty("proxyProtocol");
        Assert.Equal(2, proxy.GetProperty("version").GetInt32());
        Assert.StartsWith("127.0.0.1:", proxy.GetProperty("proxy").GetString());
        Assert.Equal(haproxy.SendProxyV2.ToString(), proxy.GetProperty("destination").GetString());

        // What the client wrote itself is shown, never believed: 127.0.0.5 is no proxy of this listener's.
        var forwarded = client.GetProperty("forwarded");
        Assert.Equal("198.51.100.66", forwarded.GetProperty("value").GetString());
        Assert.False(forwarded.GetProperty("used").GetBoolean());
        Assert.Equal($"ignored: the peer {Client} is not in TrustedProxies", forwarded.GetProperty("note").GetString());
    }

    [ToolFact(ExternalTools.Haproxy, ExternalTools.Curl)]
    public async Task With_option_forwardfor_from_a_trusted_proxy_the_client_is_the_address_it_appended()
    {
        await using var host = await StartAsync(new() { ["EchoHost:Listeners:Web:TrustedProxies:0"] = "127.0.0.1" });
        await using var haproxy = await HttpEchoHaproxy.StartAsync(host.EndPoint("Web"));

        // The client forges an address; HAProxy appends the one it saw, and only that one is believed.
        var response = await HttpEchoCurl.RunAsync("--interface", Client, $"http://{haproxy.ForwardFor}/echo", "-H", "X-Forwarded-For: 198.51.100.66");

        var client = response.Json.GetProperty("client");
        Assert.Equal(Client, client.GetProperty("address").GetString());
        Assert.Equal("x-forwarded-for", client.GetProperty("source").GetString());
        Assert.StartsWith("127.0.0.1:", client.GetProperty("peer").GetString());
        var forwarded = client.GetProperty("forwarded");
        Assert.Equal("X-Forwarded-For", forwarded.GetProperty("header").GetString());
        Assert.Equal($"198.51.100.66, {Client}", forwarded.GetProperty("value").GetString());
        Assert.True(forwarded.GetProperty("used").GetBoolean());
    }

    [ToolTheory(ExternalTools.Haproxy, ExternalTools.Curl)]
    [InlineData(null, "ignored: this listener has no TrustedProxies")]
    [InlineData("127.0.0.2", "ignored: the peer 127.0.0.1 is not in TrustedProxies")]
    public async Task With_option_forwardfor_from_an_untrusted_proxy_the_header_is_shown_and_ignored(string? trusted, string note)
    {
        await using var host = await StartAsync(trusted is null ? [] : new() { ["EchoHost:Listeners:Web:TrustedProxies:0"] = trusted });
        await using var haproxy = await HttpEchoHaproxy.StartAsync(host.EndPoint("Web"));

        var response = await HttpEchoCurl.RunAsync("--interface", Client, $"http://{haproxy.ForwardFor}/echo", "-H", "Accept: text/plain");

        Assert.Contains("\nclient: 127.0.0.1 (socket; peer 127.0.0.1:", response.Body);
        Assert.Contains($"\nforwarded: X-Forwarded-For: {Client} ({note})\n", response.Body);
    }
}
