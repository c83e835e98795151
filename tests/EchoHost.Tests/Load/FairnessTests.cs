using System.Net;
using System.Text.Json;
using EchoHost.Baseline;
using EchoHost.Load;
using EchoHost.Load.Benchmark;

namespace EchoHost.Tests.Load;

/// <summary>
/// Fairness: the most-served connection's completed operations over the least-served's, in the load client's summary
/// and JSON and in the benchmark's table (where a connection served nothing is ∞ and has no ratio).
/// </summary>
public sealed class FairnessTests
{
    [Fact]
    public void It_is_the_most_served_count_over_the_least_served()
    {
        var fairness = Fairness.Compute([300, 100, 150, 299], "messages echoed");

        Assert.Equal(3.0, fairness.Ratio);
        Assert.Equal((300, 100), (fairness.Most, fairness.Least));
        Assert.False(fairness.IsUnbounded);
        Assert.Equal("3.00 (most-served connection 300 messages echoed, least-served 100)", fairness.Describe());
        Assert.Equal(1.0, Fairness.Compute([7, 7], "messages echoed").Ratio);
    }

    [Fact]
    public void A_connection_served_nothing_makes_it_unbounded()
    {
        var fairness = Fairness.Compute([5000, 0, 12], "bytes echoed");

        Assert.True(fairness.IsUnbounded);
        Assert.Equal(Fairness.Unbounded, fairness.Ratio); // a number JSON can carry
        Assert.StartsWith("∞ ", fairness.Describe());
        Assert.Throws<ArgumentOutOfRangeException>(() => Fairness.Compute([1], "messages echoed"));
    }

    [Fact]
    public async Task The_summary_and_json_carry_it_for_several_connections_only()
    {
        using var server = SocketEchoServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var target = server.EndPoint.ToString();

        var pingpong = (await LoadClientRun.RunAsync("pingpong", "--target", target, "--connections", "4", "--duration", "1", "--json")).AssertClean(minOps: 10);
        var f = pingpong.Json.GetProperty("fairness");
        Assert.Equal("messages echoed", f.GetProperty("unit").GetString());
        Assert.Equal(f.GetProperty("least").GetInt64() == 0, f.GetProperty("isUnbounded").GetBoolean());
        var (most, least, ops) = (f.GetProperty("most").GetInt64(), f.GetProperty("least").GetInt64(), pingpong.Number("ops"));
        // Per-connection counts of the measured phase: the least- and most-served bracket the average.
        Assert.True(least * 4 <= ops && ops <= most * 4, pingpong.ToString());
        Assert.Equal(least == 0 ? Fairness.Unbounded : Math.Round(most / (double)least, 3), f.GetProperty("ratio").GetDouble());

        var stream = (await LoadClientRun.RunAsync("stream", "--target", target, "--connections", "2", "--size", "16k", "--duration", "1", "--json")).AssertClean();
        var s = stream.Json.GetProperty("fairness");
        Assert.Equal("bytes echoed", s.GetProperty("unit").GetString());
        Assert.Equal(stream.Number("bytes"), s.GetProperty("most").GetInt64() + s.GetProperty("least").GetInt64());

        var text = await LoadClientRun.RunAsync("pingpong", "--target", target, "--connections", "2", "--duration", "1");
        Assert.Matches(@"\n  fairness     [0-9.,]+ \(most-served connection [0-9,]+ messages echoed, least-served [0-9,]+\)|\n  fairness     ∞ ", text.Output);

        var single = (await LoadClientRun.RunAsync("pingpong", "--target", target, "--connections", "1", "--duration", "1", "--json")).AssertClean();
        Assert.False(single.Json.TryGetProperty("fairness", out _), single.ToString());
    }

    [Fact]
    public void The_table_shows_the_floor_and_an_unbounded_fairness_as_infinity_without_a_ratio()
    {
        var fairness = new Figure("fairness", s => s.Result.Fairness?.Ratio ?? double.NaN, "N2");
        var cpu = new Figure("ops", s => s.Result.Ops, "N0");
        var row = new BenchmarkRow("pingpong64", "pingpong", [cpu, fairness], _ => throw new InvalidOperationException("not run"), Floor: true);
        static Sample Sample(long ops, double fairness) => new(Result(ops, fairness), 1, 0, 0);
        var samples = new Dictionary<(string, string), List<Sample>>
        {
            [("pingpong64", BenchmarkTable.Baseline)] = [Sample(120, 1.5), Sample(120, 1.5)],
            [("pingpong64", BenchmarkTable.Floor)] = [Sample(240, Fairness.Unbounded), Sample(400, 4)],
            [("pingpong64", BenchmarkTable.EchoHostName)] = [Sample(120, 2), Sample(120, 2)],
        };

        var table = BenchmarkTable.Tabulate([row], samples, anchorInstalled: true, postgresInstalled: true);

        var ops = table[0];
        Assert.Equal((BenchmarkTable.Floor, "320", 320.0), (ops.FloorName, ops.Floor, ops.FloorValue));
        Assert.Equal([0.5, 0.3], ops.FloorRoundRatios!);
        Assert.Equal("0.40× (0.30–0.50)", ops.FloorRatio); // the median of the rounds' ratios, lowest–highest
        Assert.Equal("1.00× (1.00–1.00)", ops.Ratio);
        var fair = table[1];
        Assert.Equal("∞", fair.Floor); // one round of two unbounded: the median is too
        Assert.Equal(Fairness.Unbounded, fair.FloorValue);
        Assert.Equal([0.5], fair.FloorRoundRatios!); // the unbounded round has no ratio
        Assert.Equal("1.33× (1.33–1.33)", fair.Ratio);
        var markdown = BenchmarkTable.ToMarkdown(new Machine(2, "cpu", "os", "kernel", "runtime"), "settings", table);
        Assert.Contains("| pingpong | fairness | 1.50 | ∞ | 2.00 | 1.33× (1.33–1.33) | 0.50× | 0 / 0 / 0 |", markdown);
        JsonSerializer.Serialize(table, LoadResult.JsonOptions); // the sentinel is a number JSON can carry
    }

    private static LoadResult Result(long ops, double fairness) => new()
    {
        Mode = "pingpong",
        Target = "127.0.0.1:7",
        Connections = 2,
        Size = 64,
        Seconds = 1,
        Ops = ops,
        OpsPerSecond = ops,
        Bytes = ops * 64,
        BytesPerSecond = ops * 64,
        LatencyOf = PingPongLatency,
        Latency = new LatencySummary(1, 1, 1, 1, 1, 1, ops),
        Errors = 0,
        Mismatches = 0,
        Fairness = new Fairness(fairness, 0, 0, "messages echoed"),
    };

    private const string PingPongLatency = "round trip";
}
