using System.Globalization;
using System.Net;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// One run of one load against one server (or the instances of one side together), with the server's figures around
/// the measured phase; <paramref name="DatabaseCpuSeconds"/> is PostgreSQL's, on the scale-out side;
/// <paramref name="SystemCpuSeconds"/> is the kernel's part of <paramref name="CpuSeconds"/>, and
/// <paramref name="EachServerCpuSeconds"/> splits it by server process, for a side with several instances.
/// </summary>
internal sealed record Sample(LoadResult Result, double CpuSeconds, long RssBeforeKiB, long RssAfterKiB, double DatabaseCpuSeconds = double.NaN,
    double SystemCpuSeconds = double.NaN, IReadOnlyList<double>? EachServerCpuSeconds = null)
{
    /// <summary>
    /// The busier instance's CPU per delivery it made: users are split evenly, so each instance makes its share of
    /// the deliveries (with two, half).
    /// </summary>
    public double BusiestServerCpuMicrosecondsPerShare(double units) => EachServerCpuSeconds is { Count: > 0 } each && units > 0
        ? each.Max() * 1e6 / (units / each.Count)
        : double.NaN;

    public double CpuMicrosecondsPer(double units) => units > 0 ? CpuSeconds * 1e6 / units : double.NaN;

    public double SystemCpuMicrosecondsPer(double units) => units > 0 ? SystemCpuSeconds * 1e6 / units : double.NaN;
}

/// <summary>
/// A figure the table shows for a load, computed from each sample; the table shows the median over rounds. With
/// <paramref name="Versus"/>, its baseline column is EchoHost's value in that other row of the same run.
/// </summary>
internal sealed record Figure(string Name, Func<Sample, double> Value, string Format = "N1", string? Versus = null);

/// <summary>
/// A load of the benchmark: what it runs (against the targets of a side) and which figures it yields. A row with
/// <paramref name="Versus"/> runs against EchoHost only and compares every figure with EchoHost in that row. A row
/// with <paramref name="Floor"/> also runs against the plain .NET <c>Socket</c> echo (<c>EchoHost.Baseline socket</c>).
/// </summary>
internal sealed record BenchmarkRow(string Key, string Title, IReadOnlyList<Figure> Figures, Func<IReadOnlyList<LoadTarget>, LoadOptions> Load, bool IsChat = false, string? Versus = null, bool Floor = false);

internal static class BenchmarkRows
{
    public static IReadOnlyList<BenchmarkRow> Create(BenchmarkOptions o)
    {
        var q = o.Quick;
        var holdSources = LoadOptionsParser.ParseSources("127.0.0.2-127.0.0.41", System.Net.Sockets.AddressFamily.InterNetwork);
        int pp64 = q ? 4 : 64, pp1k = q ? 8 : 256, streams = q ? 2 : 8, churn = q ? 4 : 16, udp = q ? 4 : 32, users = q ? 20 : 500;
        var perUser = q ? 2.0 : 0.4;
        LoadOptions Base(LoadMode mode, IReadOnlyList<LoadTarget> targets, int connections, int size) => new()
        {
            Mode = mode,
            Target = targets[0].EndPoint,
            Targets = targets,
            TargetText = string.Join(',', targets.Select(t => t.EndPoint)),
            Connections = connections,
            Size = size,
            Duration = o.Duration,
            Warmup = o.Warmup,
        };

        // Most-served connection's (user's) completed operations over the least-served's; ∞ when one got none.
        var fairness = new Figure("fairness: most / least-served connection", s => s.Result.Fairness?.Ratio ?? double.NaN, "N2");
        var chat = new[]
        {
            new Figure("CPU µs/delivery", s => s.CpuMicrosecondsPer(s.Result.Ops), "N2"),
            new Figure("of which kernel µs/delivery", s => s.SystemCpuMicrosecondsPer(s.Result.Ops), "N2"),
            new Figure("deliveries/s", s => s.Result.OpsPerSecond, "N0"),
            new Figure("p50 delivery ms", s => s.Result.Latency.P50 / 1000, "N2"),
            new Figure("p99 delivery ms", s => s.Result.Latency.P99 / 1000, "N2"),
            new Figure("deliveries made / expected", s => s.Result.Chat is { Expected: > 0 } c ? (double)c.Delivered / c.Expected : double.NaN, "P2"),
            fairness with { Name = "fairness: most / least-served user (deliveries received)" },
        };
        var msg = new[]
        {
            new Figure("CPU µs/msg", s => s.CpuMicrosecondsPer(s.Result.Ops)),
            new Figure("of which kernel µs/msg", s => s.SystemCpuMicrosecondsPer(s.Result.Ops)),
            new Figure("msgs/s", s => s.Result.OpsPerSecond, "N0"),
            new Figure("p99 round trip µs", s => s.Result.Latency.P99, "N0"),
        };
        return new BenchmarkRow[]
        {
            new("pingpong1", "pingpong 1 conn × 64 B", msg, t => Base(LoadMode.PingPong, t, 1, 64), Floor: true),
            new("pingpong64", $"pingpong {pp64} conns × 64 B", [.. msg, fairness], t => Base(LoadMode.PingPong, t, pp64, 64), Floor: true),
            new("pingpong1k", $"pingpong {pp1k} conns × 1 KiB", [.. msg, fairness], t => Base(LoadMode.PingPong, t, pp1k, 1024), Floor: true),
            new("tls", $"TLS pingpong {pp64} conns × 64 B",
            [
                .. msg,
                fairness,
                new("CPU µs/msg: TLS vs EchoHost plain (baseline column: pingpong64's EchoHost)", s => s.CpuMicrosecondsPer(s.Result.Ops), Versus: "pingpong64"),
            ], t => Base(LoadMode.PingPong, t, pp64, 64) with { Tls = true }),
            new("stream", $"stream {streams} conns × 64 KiB writes",
            [
                new("throughput MiB/s", s => s.Result.BytesPerSecond / (1 << 20)),
                new("CPU µs/MiB", s => s.CpuMicrosecondsPer(s.Result.Bytes / (double)(1 << 20)), "N0"),
                fairness with { Name = "fairness: most / least-served connection (bytes echoed)" },
            ], t => Base(LoadMode.Stream, t, streams, 65536), Floor: true),
            new("churn", $"churn {churn} at a time: connect, echo 32 B, close",
            [
                new("CPU µs/conn", s => s.CpuMicrosecondsPer(s.Result.Ops)),
                new("conns/s", s => s.Result.OpsPerSecond, "N0"),
            ], t => Base(LoadMode.Churn, t, churn, 32), Floor: true),
            new("hold", $"{o.Hold:N0} idle connections from {Math.Min(o.Hold, holdSources.Count)} addresses",
            [
                new("RSS KiB/conn beyond idle", s => s.Result.Ops > 0 ? (s.RssAfterKiB - s.RssBeforeKiB) / (double)s.Result.Ops : double.NaN, "N2"),
                new("idle RSS MiB", s => s.RssBeforeKiB / 1024.0),
            ], t => Base(LoadMode.Hold, t, o.Hold, 16) with { Sources = holdSources, Duration = TimeSpan.FromSeconds(Math.Min(o.Duration.TotalSeconds, q ? 1 : 3)), Warmup = TimeSpan.Zero }, Floor: true),
            new("udp", $"UDP {udp} senders × 512 B",
            [
                new("CPU µs/datagram", s => s.CpuMicrosecondsPer(s.Result.Ops)),
                new("of which kernel µs/datagram", s => s.SystemCpuMicrosecondsPer(s.Result.Ops)),
                new("datagrams/s", s => s.Result.OpsPerSecond, "N0"),
            ], t => Base(LoadMode.Udp, t, udp, 512) with { Sources = holdSources.Take(udp).ToArray() }),
            new("chat", $"chat: {users} users, one room, {perUser.ToString(CultureInfo.InvariantCulture)} lines/s each", chat,
                t => Base(LoadMode.Chat, t, users, 64) with { Rate = users * perUser }, IsChat: true),
            // The same load in the same dialect on both sides: EchoHost's IRC listener against InspIRCd.
            new("chat-irc", $"chat over IRC: {users} users, one room, {perUser.ToString(CultureInfo.InvariantCulture)} lines/s each", chat,
                t => Base(LoadMode.Chat, t, users, 64) with { Rate = users * perUser, Dialect = ChatDialect.Irc }, IsChat: true),
            new("chat-scaleout", $"chat across 2 instances + PostgreSQL: {users} users split evenly, one room, {perUser.ToString(CultureInfo.InvariantCulture)} lines/s each",
            [
                new("CPU µs/delivery (both instances; baseline column: one instance, chat row)", s => s.CpuMicrosecondsPer(s.Result.Ops), "N2"),
                new("CPU µs/delivery of the busier instance (its CPU over its half of the deliveries)", s => s.BusiestServerCpuMicrosecondsPerShare(s.Result.Ops), "N2"),
                new("PostgreSQL CPU µs/delivery", s => s.DatabaseCpuSeconds * 1e6 / s.Result.Ops, "N2"),
                new("deliveries/s", s => s.Result.OpsPerSecond, "N0"),
                new("p50 delivery ms", s => s.Result.Latency.P50 / 1000, "N2"),
                new("p99 delivery ms", s => s.Result.Latency.P99 / 1000, "N2"),
                new("deliveries made / expected", s => s.Result.Chat is { Expected: > 0 } c ? (double)c.Delivered / c.Expected : double.NaN, "P2"),
            ], t => Base(LoadMode.Chat, t, users, 64) with { Rate = users * perUser }, IsChat: true, Versus: "chat"),
            // WebSocket: EchoHost's Web listener (/ws/echo) against ASP.NET Core's UseWebSockets with the documented echo loop.
            new("ws-echo", $"WebSocket pingpong {pp64} conns × 64 B",
            [
                .. msg,
                fairness,
                new("CPU µs/msg: WebSocket vs EchoHost TCP (baseline column: pingpong64's EchoHost)", s => s.CpuMicrosecondsPer(s.Result.Ops), Versus: "pingpong64"),
            ], t => Base(LoadMode.PingPong, t, pp64, 64)),
            // A bare WebSocket echo cannot fan out a chat: /ws/chat is measured against EchoHost's TCP chat in the same run.
            new("ws-chat", $"chat over WebSocket: {users} users, one room, {perUser.ToString(CultureInfo.InvariantCulture)} lines/s each",
            [
                new("CPU µs/delivery (baseline column: EchoHost's TCP chat, chat row)", s => s.CpuMicrosecondsPer(s.Result.Ops), "N2"),
                new("of which kernel µs/delivery", s => s.SystemCpuMicrosecondsPer(s.Result.Ops), "N2"),
                new("deliveries/s", s => s.Result.OpsPerSecond, "N0"),
                new("p50 delivery ms", s => s.Result.Latency.P50 / 1000, "N2"),
                new("p99 delivery ms", s => s.Result.Latency.P99 / 1000, "N2"),
                new("deliveries made / expected", s => s.Result.Chat is { Expected: > 0 } c ? (double)c.Delivered / c.Expected : double.NaN, "P2"),
                fairness with { Name = "fairness: most / least-served user (deliveries received)" },
            ], t => Base(LoadMode.Chat, t, users, 64) with { Rate = users * perUser }, IsChat: true, Versus: "chat"),
        }.Where(row => o.Rows.Contains(row.Key)).ToArray();
    }
}
