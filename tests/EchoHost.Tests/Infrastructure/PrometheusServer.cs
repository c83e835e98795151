using System.Text.Json;
using EchoHost.Harness;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (the Debian package's) on a free loopback port with a temporary data folder, scraping
/// the given targets every second with its default content negotiation (OpenMetrics first); queried over its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly DirectoryInfo _work;
    private readonly HttpClient _api;

    private PrometheusServer(ChildProcess process, DirectoryInfo work, int port)
    {
        _process = process;
        _work = work;
        _api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TestTimeouts.Default };
    }

    /// <summary>Starts Prometheus scraping <paramref name="target"/> (host:port) as job <c>echohost</c>.</summary>
    public static async Task<PrometheusServer> StartAsync(string target)
    {
        var work = Directory.CreateTempSubdirectory("echohost-prometheus-");
        var port = SocketExtensions.FreeLoopbackPort();
        var config = Path.Combine(work.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: echohost
                static_configs:
                  - targets: ['{target}']
            """);
        var process = ChildProcess.Start(new ChildProcessOptions("prometheus", ExternalTools.Find("prometheus")!)
        {
            Arguments =
            [
                $"--config.file={config}",
                $"--storage.tsdb.path={Path.Combine(work.FullName, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            StopTimeout = TestTimeouts.Process,
        });
        return new PrometheusServer(process, work, port);
    }

    /// <summary>An instant query's result vector (empty while Prometheus is not answering yet).</summary>
    public async Task<JsonElement[]> QueryAsync(string query)
    {
        Assert.False(_process.HasExited, $"prometheus exited with code {_process.ExitCode}:\n{_process.StandardOutput}\n{_process.StandardError}");
        try
        {
            using var json = JsonDocument.Parse(await _api.GetStringAsync($"api/v1/query?query={Uri.EscapeDataString(query)}"));
            var data = json.RootElement.GetProperty("data");
            return data.GetProperty("result").EnumerateArray().Select(r => r.Clone()).ToArray();
        }
        catch (HttpRequestException)
        {
            return []; // not listening yet
        }
    }

    /// <summary>Queries until the one result has <paramref name="expected"/>; returns the last value seen (bounded).</summary>
    public async Task<string?> PollQueryAsync(string query, string expected)
    {
        string? last = null;
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (DateTime.UtcNow < deadline)
        {
            var result = await QueryAsync(query);
            if (result.Length == 1)
            {
                last = result[0].GetProperty("value")[1].GetString();
                if (last == expected)
                {
                    return last;
                }
            }

            await Task.Delay(250);
        }

        return last;
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        await _process.DisposeAsync();
        _work.Delete(recursive: true);
    }
}
