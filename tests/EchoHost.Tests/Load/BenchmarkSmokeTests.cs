using EchoHost.Tests.Infrastructure;
using System.Text.Json;

namespace EchoHost.Tests.Load;

/// <summary>
/// The benchmark script end to end with --quick: every row runs against real server processes and none may have an
/// error, a mismatch, a lost datagram or a missing delivery. Never a speed. It runs the binaries this test build
/// already made (--prebuilt), because a Release build of three projects inside a test would take longer than the
/// whole smoke; the script's build step is the same `dotnet build -c Release` as everywhere else.
/// </summary>
public sealed class BenchmarkSmokeTests
{
    /// <summary>
    /// Only a hang guard: the quick run starts a baseline and EchoHost (and for chat-scaleout PostgreSQL and a second
    /// EchoHost, for ws-echo the WebSocket baseline) row after row, each started, loaded and stopped in turn, so on a loaded 2-core machine it takes
    /// longer than the two minutes one child process is allowed.
    /// </summary>
    private static readonly TimeSpan WholeQuickRun = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Benchmark_script_quick_completes_every_row_without_failures()
    {
        var result = await ExternalTools.RunAsync("bash", [Repository.Path("src/EchoHost.Load/benchmark.sh"), "--prebuilt", AppContext.BaseDirectory, "--quick", "--json"],
            timeout: WholeQuickRun);
        result.EnsureSuccess();
        var root = JsonDocument.Parse(result.StandardOutput).RootElement;
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        var loads = rows.Select(r => r.GetProperty("load").GetString()!).Distinct().ToList();
        Assert.Equal(13, loads.Count); // pingpong ×3, tls, stream, churn, hold, udp, chat, chat over IRC, chat-scaleout, WebSocket pingpong, chat over WebSocket
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("baselineFailures").GetInt64() == 0 && row.GetProperty("echoHostFailures").GetInt64() == 0, $"{row}\n{result.StandardError}");
            Assert.True(!row.TryGetProperty("floorFailures", out var floorFailures) || floorFailures.GetInt64() == 0, $"{row}\n{result.StandardError}");
            // A row whose program is missing (PostgreSQL for chat-scaleout) says how to install it: not a failure.
            var missing = row.GetProperty("echoHost").GetString()!.StartsWith("not installed: ", StringComparison.Ordinal);
            Assert.True(missing || row.GetProperty("echoHostValue").ValueKind == JsonValueKind.Number, $"EchoHost has no figure: {row}\n{result.StandardError}");
            // One round: its ratio is the ratio of the two figures, and the table's ratio is that round's.
            // (A fairness where a connection was served nothing is 1e9, standing for ∞, and has no ratio.)
            if (row.TryGetProperty("baselineValue", out var b) && b.ValueKind == JsonValueKind.Number && b.GetDouble() is > 0 and < 1e9 && !missing
                && row.GetProperty("echoHostValue").GetDouble() < 1e9)
            {
                var round = Assert.Single(row.GetProperty("roundRatios").EnumerateArray()).GetDouble();
                Assert.Equal(row.GetProperty("echoHostValue").GetDouble() / b.GetDouble(), round, 1e-9);
                Assert.Equal(round.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "×", row.GetProperty("ratio").GetString());
            }

            // The same against the plain socket floor, where the row runs it (an unbounded fairness has no ratio).
            if (row.TryGetProperty("floorValue", out var f) && f.GetDouble() is > 0 and < 1e9 && row.GetProperty("echoHostValue").GetDouble() < 1e9)
            {
                var round = Assert.Single(row.GetProperty("floorRoundRatios").EnumerateArray()).GetDouble();
                Assert.Equal(row.GetProperty("echoHostValue").GetDouble() / f.GetDouble(), round, 1e-9);
                Assert.Equal(round.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "×", row.GetProperty("floorRatio").GetString());
            }
        }

        // The plain .NET Socket floor beside bare Kestrel in every echo row, pingpong with one connection among them.
        string[] floorLoads = ["pingpong 1 conn × 64 B", "pingpong 4 conns × 64 B", "pingpong 8 conns × 1 KiB", "stream 2 conns × 64 KiB writes", "churn 4 at a time: connect, echo 32 B, close", "200 idle connections from 40 addresses"];
        foreach (var load in floorLoads)
        {
            var first = rows.First(r => r.GetProperty("load").GetString() == load);
            Assert.True(first.TryGetProperty("floorValue", out var floor) && floor.ValueKind == JsonValueKind.Number && first.GetProperty("floorName").GetString() == "plain socket floor", $"no socket floor figure: {first}");
        }

        Assert.DoesNotContain(rows, r => r.TryGetProperty("floorValue", out _) && !floorLoads.Contains(r.GetProperty("load").GetString()));
        // Fairness for every multi-connection echo load, on each side that ran it.
        foreach (var load in new[] { "pingpong 4 conns × 64 B", "pingpong 8 conns × 1 KiB", "stream 2 conns × 64 KiB writes", "TLS pingpong 4 conns × 64 B", "WebSocket pingpong 4 conns × 64 B" })
        {
            var fairness = rows.Single(r => r.GetProperty("load").GetString() == load && r.GetProperty("figure").GetString()!.StartsWith("fairness", StringComparison.Ordinal));
            Assert.True(fairness.GetProperty("baselineValue").GetDouble() >= 1 && fairness.GetProperty("echoHostValue").GetDouble() >= 1, $"{fairness}");
        }

        Assert.DoesNotContain(rows, r => r.GetProperty("load").GetString() == "pingpong 1 conn × 64 B" && r.GetProperty("figure").GetString()!.StartsWith("fairness", StringComparison.Ordinal));

        // The rows measured against another row of the same run: TLS against plain EchoHost, scale-out against one instance.
        Assert.Contains(rows, r => r.GetProperty("baselineName").GetString() == "EchoHost (pingpong64 row)" && r.GetProperty("baselineValue").ValueKind == JsonValueKind.Number);
        Assert.Contains(rows, r => r.GetProperty("baselineName").GetString() == "EchoHost (chat row)");
        // WebSocket: EchoHost's /ws/echo against the bare ASP.NET Core WebSocket echo, /ws/chat against the TCP chat row.
        Assert.Contains(rows, r => r.GetProperty("load").GetString()!.StartsWith("WebSocket pingpong", StringComparison.Ordinal)
            && r.GetProperty("baselineName").GetString() == "bare baseline" && r.GetProperty("baselineValue").ValueKind == JsonValueKind.Number);
        Assert.Contains(rows, r => r.GetProperty("load").GetString()!.StartsWith("chat over WebSocket", StringComparison.Ordinal)
            && r.GetProperty("baselineName").GetString() == "EchoHost (chat row)" && r.GetProperty("echoHostValue").ValueKind == JsonValueKind.Number);

        Assert.True(root.GetProperty("machine").GetProperty("cores").GetInt32() > 0);
        Assert.Contains("0.3 s warm-up (0.3 s in round 1)", root.GetProperty("settings").GetString());
    }
}
