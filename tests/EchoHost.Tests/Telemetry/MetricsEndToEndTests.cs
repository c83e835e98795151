using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Telemetry;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Telemetry;

/// <summary>The real host's /metrics: known traffic moves exactly the series it should, by exactly what it should.</summary>
public sealed partial class MetricsEndToEndTests
{
    private static readonly (string, string)[] EchoListener = [("echohost_listener", "Echo"), ("echohost_protocol", "echo")];

    [Fact]
    public async Task Metrics_endpoint_serves_prometheus_text_with_target_info_and_every_meter()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        using var response = await http.GetAsync("metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var samples = PrometheusSamples.Parse(text);
        var target = Assert.Single(samples.Matching("target_info")).Labels;
        Assert.Equal("echohost", target["service_name"]);
        Assert.True(Guid.TryParse(target["service_instance_id"], out _));
        Assert.Contains(samples.All, s => s.Labels.GetValueOrDefault("otel_scope_name") == "EchoHost");
        Assert.Contains(samples.All, s => s.Labels.GetValueOrDefault("otel_scope_name") == "Microsoft.AspNetCore.Server.Kestrel");
        Assert.Contains(samples.All, s => s.Labels.GetValueOrDefault("otel_scope_name") == "System.Runtime");
    }

    [Fact]
    public async Task Every_listener_series_starts_at_zero_before_any_traffic()
    {
        await using var host = await TestHost.StartAsync();

        var samples = await host.ScrapeAsync();

        Assert.Equal(0, samples.Value("echohost_connections_active", EchoListener));
        Assert.Equal(0, samples.Value("echohost_connections_opened_total", EchoListener));
        Assert.Equal(0, samples.Value("echohost_io_received_bytes_total", EchoListener));
        Assert.Equal(0, samples.Value("echohost_io_sent_bytes_total", EchoListener));
        Assert.Equal(0, samples.Value("echohost_connections_idle_timeouts_total", EchoListener));
        Assert.Equal(0, samples.Value("echohost_connections_refused_total", [.. EchoListener, ("reason", "max_connections")]));
        Assert.Equal(0, samples.Value("echohost_connections_refused_total", [.. EchoListener, ("reason", "per_ip")]));
    }

    [Fact]
    public async Task Echoing_n_bytes_moves_exactly_the_byte_connection_and_duration_series()
    {
        await using var host = await TestHost.StartAsync();
        var before = await host.ScrapeAsync();
        const int n = 123_457;
        var payload = new byte[n];
        Random.Shared.NextBytes(payload);

        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            var receiving = socket.ReceiveToEndAsync();
            await socket.SendAllAsync(payload);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal(n, (await receiving).Length);
        }

        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed ("));
        var after = await host.ScrapeAsync();

        var changed = after.ChangesSince(before).Where(c => c.Key.StartsWith("echohost_", StringComparison.Ordinal) && !c.Key.Contains("_bucket{") && !c.Key.Contains("_sum{"))
            .ToDictionary();
        var labels = "echohost_listener=\"Echo\",echohost_protocol=\"echo\",otel_scope_name=\"EchoHost\"";
        Assert.Equal(new Dictionary<string, double>
        {
            [$"echohost_io_received_bytes_total{{{labels}}}"] = n,
            [$"echohost_io_sent_bytes_total{{{labels}}}"] = n,
            [$"echohost_connections_opened_total{{{labels}}}"] = 1,
        }, changed);
        Assert.Equal(0, after.Value("echohost_connections_active", EchoListener));
        // The duration is Kestrel's own histogram, tagged with the listener, with buckets up to an hour.
        Assert.Equal(1, after.Value("kestrel_connection_duration_seconds_count", EchoListener));
        Assert.Equal(1, after.Value("kestrel_connection_duration_seconds_bucket", [.. EchoListener, ("le", "+Inf")]));
        Assert.Equal(1, after.Value("kestrel_connection_duration_seconds_bucket", [.. EchoListener, ("le", "3600")]));
        Assert.True(after.Value("kestrel_connection_duration_seconds_sum", EchoListener) > 0);
    }

    /// <summary>
    /// A scraper that asks right after traffic sees it: no response cache on the way (the official exporter's default
    /// keeps an answer 300 ms), and none downstream either (<c>Cache-Control: no-store</c>).
    /// </summary>
    [Fact]
    public async Task A_scrape_right_after_traffic_sees_it_and_nothing_may_cache_the_answer()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();
        Assert.Equal(0, PrometheusSamples.Parse(await http.GetStringAsync("metrics")).Value("echohost_connections_active", EchoListener));

        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();
        using var response = await http.GetAsync("metrics");

        Assert.Equal(1, PrometheusSamples.Parse(await response.Content.ReadAsStringAsync()).Value("echohost_connections_active", EchoListener));
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal(["Accept", "Accept-Encoding"], response.Headers.Vary);
    }

    [Fact]
    public async Task Refused_connections_are_not_counted_in_the_listeners_duration()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Listeners:Echo:MaxConnections"] = "1" });
        using var kept = await SocketExtensions.ConnectAsync(host.EndPoint());
        await kept.AssertEchoesAsync();
        using (var refused = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            Assert.True(await refused.WaitForServerCloseAsync());
        }

        kept.Close();
        await host.Logs.WaitForAsync(e => e.Message.Contains("closed (closed by client)"));
        (string, string) echoPort = ("server_port", host.EndPoint().Port.ToString());
        await WaitForAsync(async () => (await host.ScrapeAsync()).Matching("kestrel_connection_duration_seconds_count", echoPort).Sum(s => s.Value) == 2);
        var samples = await host.ScrapeAsync();

        Assert.Equal(1, samples.Value("kestrel_connection_duration_seconds_count", EchoListener));
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", [.. EchoListener, ("reason", "max_connections")]));
        var untagged = Assert.Single(samples.Matching("kestrel_connection_duration_seconds_count", echoPort), s => !s.Labels.ContainsKey("echohost_listener"));
        Assert.Equal(1, untagged.Value);
    }

    /// <summary>Bounded polling: the timeout only guards against a hang.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_open_connection_is_active_until_it_closes()
    {
        await using var host = await TestHost.StartAsync();
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();

        Assert.Equal(1, (await host.ScrapeAsync()).Value("echohost_connections_active", EchoListener));

        socket.Close();
        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed ("));
        Assert.Equal(0, (await host.ScrapeAsync()).Value("echohost_connections_active", EchoListener));
    }

    [Fact]
    public async Task Refusals_are_counted_by_reason()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:MaxConnections"] = "2",
            ["EchoHost:Listeners:Echo:MaxConnectionsPerIp"] = "1",
        });
        using var first = await SocketExtensions.ConnectAsync(host.EndPoint());
        await first.AssertEchoesAsync();
        using var samePlace = await SocketExtensions.ConnectAsync(host.EndPoint());
        Assert.True(await samePlace.WaitForServerCloseAsync());
        using var second = await SocketExtensions.ConnectAsync(host.EndPoint(), from: IPAddress.Parse("127.0.0.2"));
        await second.AssertEchoesAsync();
        using var third = await SocketExtensions.ConnectAsync(host.EndPoint(), from: IPAddress.Parse("127.0.0.3"));
        Assert.True(await third.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("connection limit reached"));

        var samples = await host.ScrapeAsync();

        Assert.Equal(1, samples.Value("echohost_connections_refused_total", [.. EchoListener, ("reason", "per_ip")]));
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", [.. EchoListener, ("reason", "max_connections")]));
        Assert.Equal(2, samples.Value("echohost_connections_opened_total", EchoListener));
        Assert.Equal(2, samples.Value("echohost_connections_active", EchoListener));
    }

    [Fact]
    public async Task Idle_timeouts_are_counted()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:IdleTimeout"] = "00:00:01",
        });
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();

        Assert.True(await socket.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("closed (idle timeout)"));

        Assert.Equal(1, (await host.ScrapeAsync()).Value("echohost_connections_idle_timeouts_total", EchoListener));
    }

    [Fact]
    public async Task Chat_traffic_moves_exactly_its_series()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Lobby:Protocol"] = "Chat",
            ["EchoHost:Listeners:Lobby:Port"] = "0",
            ["EchoHost:Chat:MaxLineBytes"] = "64",
        });
        using var ana = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        using var bob = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        using var cy = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        await cy.SendAsync("/join games");
        await cy.SyncAsync();

        await ana.SendAsync("to the lobby");                 // delivered to bob only: cy left for games
        await ana.SendAsync($"/msg {cy.Nick} private");       // delivered to cy
        await ana.SendAsync(new string('x', 100));            // too long
        await ana.SendRawAsync([0xC3, 0x28, (byte)'\n']);      // not UTF-8
        await ana.SyncAsync();

        (string, string)[] chat = [("echohost_listener", "Lobby"), ("echohost_protocol", "chat")];
        var samples = await host.ScrapeAsync();
        Assert.Equal(3, samples.Value("echohost_chat_users", chat));
        Assert.Equal(2, samples.Value("echohost_chat_rooms", chat));
        Assert.Equal(2, samples.Value("echohost_chat_messages_delivered_total", chat));
        Assert.Equal(1, samples.Value("echohost_chat_lines_dropped_total", [.. chat, ("reason", "too_long")]));
        Assert.Equal(1, samples.Value("echohost_chat_lines_dropped_total", [.. chat, ("reason", "invalid_utf8")]));
        Assert.Equal(0, samples.Value("echohost_chat_lines_dropped_total", [.. chat, ("reason", "flood")]));
        Assert.Equal(3, samples.Value("echohost_connections_active", chat));

        cy.Dispose();
        await host.Logs.WaitForAsync(e => e.Message.Contains($"{cy.Nick} left games"));
        samples = await host.ScrapeAsync();
        Assert.Equal(2, samples.Value("echohost_chat_users", chat));
        Assert.Equal(1, samples.Value("echohost_chat_rooms", chat));
    }

    [Fact]
    public async Task Udp_traffic_moves_exactly_its_series()
    {
        using var denied = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var deniedPort = ((IPEndPoint)denied.Client.LocalEndPoint!).Port;
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
            ["EchoHost:Listeners:Udp:Port"] = "0",
            ["EchoHost:Listeners:Udp:DenySourcePorts:0"] = deniedPort.ToString(),
        });
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        await denied.SendAsync(new byte[50], host.UdpEndPoint("Udp"), TestTimeouts.Token());
        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync(new byte[100], host.UdpEndPoint("Udp"), TestTimeouts.Token());
            Assert.Equal(100, (await client.ReceiveAsync(TestTimeouts.Token())).Buffer.Length);
        }

        (string, string)[] udp = [("echohost_listener", "Udp"), ("echohost_protocol", "udpecho")];
        var samples = await host.ScrapeAsync();
        Assert.Equal(4, samples.Value("echohost_udp_datagrams_received_total", udp));
        Assert.Equal(350, samples.Value("echohost_udp_io_received_bytes_total", udp));
        Assert.Equal(3, samples.Value("echohost_udp_datagrams_sent_total", udp));
        Assert.Equal(300, samples.Value("echohost_udp_io_sent_bytes_total", udp));
        Assert.Equal(1, samples.Value("echohost_udp_datagrams_dropped_total", [.. udp, ("reason", "denied_port")]));
        Assert.Equal(0, samples.Value("echohost_udp_datagrams_dropped_total", [.. udp, ("reason", "rate_limited")]));
    }

    [Fact]
    public async Task The_series_of_a_scrape_do_not_grow_with_the_number_of_connections()
    {
        await using var host = await TestHost.StartAsync();
        using var warmUp = await SocketExtensions.ConnectAsync(host.EndPoint());
        await warmUp.AssertEchoesAsync();
        var few = (await host.ScrapeAsync()).All.Count(s => s.Name.StartsWith("echohost_", StringComparison.Ordinal));

        var sockets = new List<Socket>();
        for (var i = 0; i < 100; i++)
        {
            sockets.Add(await SocketExtensions.ConnectAsync(host.EndPoint()));
        }

        await Task.WhenAll(sockets.Select(s => s.AssertEchoesAsync()));
        var samples = await host.ScrapeAsync();

        Assert.Equal(101, samples.Value("echohost_connections_active", EchoListener));
        Assert.Equal(few, samples.All.Count(s => s.Name.StartsWith("echohost_", StringComparison.Ordinal)));
        sockets.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Concurrent_scrapes_all_succeed_with_whole_expositions()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        var texts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => http.GetStringAsync("metrics")));

        Assert.All(texts, text =>
        {
            Assert.StartsWith("# TYPE target_info gauge\n", text);
            Assert.Single(PrometheusSamples.Parse(text).Matching("target_info"));
            Assert.EndsWith("\n", text);
        });
    }

    /// <summary>The metrics reference (docs/observability.md) names every EchoHost series exactly as /metrics writes it.</summary>
    [Fact]
    public async Task Every_series_in_the_readme_reference_appears_in_metrics_and_vice_versa()
    {
        await using var host = await TestHost.StartAsync();
        var metrics = host.Services.GetRequiredService<EchoHostMetrics>();
        _ = new ChatMetrics(metrics.ForListener("Lobby", "chat"));
        _ = new UdpListenerStats(metrics.ForListener("Udp", "udpecho"));
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync();
        }

        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed ("));
        var exposed = (await host.ScrapeAsync()).All
            .Select(s => s.Name)
            .Where(n => n.StartsWith("echohost_", StringComparison.Ordinal))
            .Select(n => HistogramSeries().Replace(n, string.Empty))
            .ToHashSet();

        var reference = Repository.Doc("docs/observability.md");
        // The chat backplane's series exist only with EchoHost:Chat:Postgres: ChatScaleOutTests checks those.
        var documented = ReadmeSeries().Matches(reference).Select(m => m.Groups["name"].Value)
            .Where(n => !n.StartsWith("echohost_chat_backplane_", StringComparison.Ordinal)).ToHashSet();

        Assert.Equal(exposed.Order(), documented.Order());
    }

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSeries();

    /// <summary>A reference table row: <c>| `echohost_…` | type | …</c>.</summary>
    [GeneratedRegex(@"^\| `(?<name>echohost_[a-z_]+)` \|", RegexOptions.Multiline)]
    private static partial Regex ReadmeSeries();
}
