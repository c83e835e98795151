using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
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
    public async Task A_prometheus_server_scrapes_the_host_and_sees_the_bytes_echoed()
    {
        await using var host = await TestHost.StartAsync();
        const int n = 4321;
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync(new string('x', n));
        }

        var work = Directory.CreateTempSubdirectory("echohost-prometheus-");
        try
        {
            var port = SocketExtensions.FreeLoopbackPort();
            var config = Path.Combine(work.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(config, $"""
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: echohost
                    static_configs:
                      - targets: ['{host.Endpoints.HttpEndPoint}']
                """);
            using var prometheus = Process.Start(new ProcessStartInfo(ExternalTools.Find("prometheus")!)
            {
                ArgumentList =
                {
                    $"--config.file={config}",
                    $"--storage.tsdb.path={Path.Combine(work.FullName, "data")}",
                    $"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            prometheus.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? string.Empty);
            prometheus.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? string.Empty);
            prometheus.BeginOutputReadLine();
            prometheus.BeginErrorReadLine();
            try
            {
                using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TestTimeouts.Default };

                Assert.Equal("1", await PollQueryAsync(api, prometheus, log, "up{job=\"echohost\"}", "1"));
                Assert.Equal($"{n}", await PollQueryAsync(api, prometheus, log, "echohost_io_received_bytes_total{echohost_listener=\"Echo\"}", $"{n}"));
                Assert.Equal("1", await PollQueryAsync(api, prometheus, log, "echohost_connections_opened_total{job=\"echohost\",echohost_protocol=\"echo\"}", "1"));
            }
            finally
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync();
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
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

    /// <summary>Queries until the one result has <paramref name="expected"/>; returns the last value seen (bounded).</summary>
    private static async Task<string?> PollQueryAsync(HttpClient api, Process prometheus, IEnumerable<string> log, string query, string expected)
    {
        string? last = null;
        var deadline = DateTime.UtcNow + TestTimeouts.Long;
        while (DateTime.UtcNow < deadline && !prometheus.HasExited)
        {
            try
            {
                using var json = JsonDocument.Parse(await api.GetStringAsync($"api/v1/query?query={Uri.EscapeDataString(query)}"));
                var result = json.RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1)
                {
                    last = result[0].GetProperty("value")[1].GetString();
                    if (last == expected)
                    {
                        return last;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.False(prometheus.HasExited, $"prometheus exited with code {(prometheus.HasExited ? prometheus.ExitCode : 0)}:\n{string.Join('\n', log)}");
        return last;
    }
}
