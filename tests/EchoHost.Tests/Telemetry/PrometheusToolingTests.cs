using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Net.Sockets;
using EchoHost.Telemetry;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Telemetry;

/// <summary>The real /metrics output against Prometheus's own tools: promtool's linter and a Prometheus server.</summary>
public sealed class PrometheusToolingTests
{
    [ToolFact(ExternalTools.Promtool)]
    public async Task Promtool_check_metrics_accepts_the_real_output()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:MaxConnectionsPerIp"] = "1",
            ["EchoHost:Listeners:Lobby:Protocol"] = "Chat",
            ["EchoHost:Listeners:Lobby:Port"] = "0",
            ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
            ["EchoHost:Listeners:Udp:Port"] = "0",
            ["EchoHost:Listeners:Udp:MaxDatagramBytes"] = "16",
        });
        await ProduceEveryKindOfSeriesAsync(host);
        using var http = host.CreateHttpClient();
        var text = await http.GetStringAsync("metrics");

        var result = await ExternalTools.RunAsync("promtool", ["check", "metrics"], standardInput: text);

        Assert.True(result.ExitCode == 0, $"promtool check metrics exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}\n--- input ---\n{text}");
        Assert.Equal(string.Empty, (result.StandardOutput + result.StandardError).Trim());
    }

    [ToolFact(ExternalTools.PrometheusServer)]
    public async Task A_prometheus_server_scrapes_the_host_with_openmetrics_and_sees_the_bytes_echoed()
    {
        var accepts = new ConcurrentQueue<string>();
        await using var host = await TestHost.StartAsync(customize: builder =>
            builder.Services.AddSingleton<IStartupFilter>(new RecordScrapeAccept(accepts)));
        const int n = 4321;
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync(new string('x', n));
        }

        await using var prometheus = await PrometheusServer.StartAsync(host.Endpoints.HttpEndPoint!.ToString());

        Assert.Equal("1", await prometheus.PollQueryAsync("up{job=\"echohost\"}", "1"));
        Assert.Equal($"{n}", await prometheus.PollQueryAsync("echohost_io_received_bytes_total{echohost_listener=\"Echo\"}", $"{n}"));
        Assert.Equal("1", await prometheus.PollQueryAsync("echohost_connections_opened_total{job=\"echohost\",echohost_protocol=\"echo\"}", "1"));
        // Prometheus asked for OpenMetrics first, as by default, and got it: only OpenMetrics has _created series.
        Assert.StartsWith("application/openmetrics-text;version=1.0.0", accepts.First());
        Assert.Single(await prometheus.QueryAsync("echohost_io_received_bytes_created{echohost_listener=\"Echo\"}"));
    }

    /// <summary>Keeps the Accept header of every <c>GET /metrics</c>.</summary>
    private sealed class RecordScrapeAccept(ConcurrentQueue<string> accepts) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Path == "/metrics")
                {
                    accepts.Enqueue(context.Request.Headers.Accept.ToString());
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>A connection, an echo, a refusal, a chat user and a dropped datagram: every EchoHost family appears.</summary>
    private static async Task ProduceEveryKindOfSeriesAsync(TestHost host)
    {
        using var kept = await SocketExtensions.ConnectAsync(host.EndPoint());
        await kept.AssertEchoesAsync();
        using var refused = await SocketExtensions.ConnectAsync(host.EndPoint());
        Assert.True(await refused.WaitForServerCloseAsync());
        using var chat = await ChatClient.ConnectAsync(host.EndPoint("Lobby"));
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await udp.SendAsync(new byte[100], host.UdpEndPoint("Udp"), TestTimeouts.Token());
        var stats = host.UdpStats("Udp");
        for (var i = 0; i < 600 && stats.DroppedTotal == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, stats.DroppedTotal);
        kept.Close();
        await host.Logs.WaitForAsync(e => e.Message.Contains("closed (closed by client)"));
    }
}
