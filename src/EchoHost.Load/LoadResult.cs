using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EchoHost.Load;

/// <summary>Latency percentiles in microseconds.</summary>
internal sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max, double Mean, long Samples)
{
    public static LatencySummary Of(Histogram h) => new(
        Us(h.ValueAtPercentile(50)), Us(h.ValueAtPercentile(90)), Us(h.ValueAtPercentile(99)), Us(h.ValueAtPercentile(99.9)),
        Us(h.MaxNanoseconds), Math.Round(h.MeanNanoseconds / 1000, 1), h.Count);

    private static double Us(long nanoseconds) => Math.Round(nanoseconds / 1000.0, 1);
}

/// <summary>What the chat mode counts on top of the common figures.</summary>
internal sealed record ChatSummary(int Users, long LinesSent, long Expected, long Delivered, long Missing, long Duplicates, long OutOfOrder);

/// <summary>The outcome of one run: what the summary prints and <c>--json</c> writes.</summary>
internal sealed record LoadResult
{
    public required string Mode { get; init; }
    public required string Target { get; init; }
    public required int Connections { get; init; }
    public required int Size { get; init; }
    public required double Seconds { get; init; }
    public required long Ops { get; init; }
    public required double OpsPerSecond { get; init; }
    public required long Bytes { get; init; }
    public required double BytesPerSecond { get; init; }
    public required string LatencyOf { get; init; }
    public required LatencySummary Latency { get; init; }
    public required long Errors { get; init; }
    public required long Mismatches { get; init; }
    public long Lost { get; init; }
    public long Late { get; init; }
    public ChatSummary? Chat { get; init; }

    /// <summary>Most-served connection's count over the least-served's (<see cref="Load.Fairness"/>); null with one connection, and for hold.</summary>
    public Fairness? Fairness { get; init; }
    public string? FirstError { get; init; }

    /// <summary>Errors, mismatches, lost datagrams (unless allowed) and missing or duplicated chat deliveries.</summary>
    public long Failures { get; init; }

    public bool Ok => Failures == 0;

    /// <summary>udp: datagrams sent per second from each source address (answered or lost), for the rate-limit hint.</summary>
    public double? SentPerSourcePerSecond { get; init; }

    public static LoadResult From(LoadRun run, string latencyOf, ChatSummary? chat = null)
    {
        var latency = new Histogram();
        long ops = 0, bytes = 0, errors = 0, mismatches = 0, lost = 0, late = 0;
        foreach (var w in run.Workers)
        {
            ops += w.Ops;
            bytes += w.Bytes;
            errors += w.Errors;
            mismatches += w.Mismatches;
            lost += w.Lost;
            late += w.Late;
            latency.Add(w.Latency);
        }

        var seconds = run.MeasuredTime.TotalSeconds;
        var failures = errors + mismatches + (run.Options.AllowLoss ? 0 : lost) + (chat is null ? 0 : chat.Missing + chat.Duplicates);
        return new LoadResult
        {
            Mode = LoadOptions.ModeName(run.Options.Mode),
            Target = run.Options.TargetText.Length > 0 ? run.Options.TargetText : run.Options.Target.ToString(),
            Connections = run.Options.Connections,
            Size = run.Options.Size,
            Seconds = Math.Round(seconds, 3),
            Ops = ops,
            OpsPerSecond = seconds > 0 ? Math.Round(ops / seconds, 1) : 0,
            Bytes = bytes,
            BytesPerSecond = seconds > 0 ? Math.Round(bytes / seconds) : 0,
            LatencyOf = latencyOf,
            Latency = LatencySummary.Of(latency),
            Errors = errors,
            Mismatches = mismatches,
            Lost = lost,
            Late = late,
            Chat = chat,
            Fairness = Load.Fairness.Of(run),
            SentPerSourcePerSecond = run.Options.Mode == LoadMode.Udp && seconds > 0
                ? Math.Round((ops + lost) / seconds / Math.Max(1, run.Options.Sources.Count), 1)
                : null,
            FirstError = run.FirstError,
            Failures = failures,
        };
    }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"{Mode} against {Target}: {Connections} {(Mode == "chat" ? "users" : Mode == "udp" ? "sockets" : "connections")}, {Size} B, {Seconds:0.###} s measured");
        var unit = Mode switch { "churn" => "connections", "hold" => "connections held", "udp" => "datagrams", "chat" => "deliveries", "stream" => "writes echoed", _ => "messages" };
        sb.AppendLine(ci, $"  ops          {Ops:N0} {unit}, {OpsPerSecond:N1}/s");
        sb.AppendLine(ci, $"  throughput   {FormatBytes(BytesPerSecond)}/s ({Bytes:N0} bytes verified)");
        sb.AppendLine(ci, $"  latency      ({LatencyOf}, µs) p50 {Latency.P50:N1}  p90 {Latency.P90:N1}  p99 {Latency.P99:N1}  p99.9 {Latency.P999:N1}  max {Latency.Max:N1}  mean {Latency.Mean:N1}");
        if (Fairness is { } fairness)
        {
            sb.AppendLine(ci, $"  fairness     {fairness.Describe()}");
        }

        if (Chat is { } chat)
        {
            sb.AppendLine(ci, $"  chat         {chat.LinesSent:N0} lines sent; deliveries {chat.Delivered:N0} of {chat.Expected:N0} expected; missing {chat.Missing:N0}, duplicated {chat.Duplicates:N0}, out of order {chat.OutOfOrder:N0}");
        }

        if (Mode == "udp")
        {
            sb.AppendLine(ci, $"  udp          lost {Lost:N0}, late replies {Late:N0}");
            if (Lost > 0)
            {
                // A server that limits each source drops the excess: the likeliest cause on a healthy loopback.
                sb.AppendLine(ci, $"  hint         {SentPerSourcePerSecond:N0} datagrams/s were sent per source address; a server that limits each source, as EchoHost does (PerSourceDatagramsPerSecond, 10,000/s by default), drops the excess: lower --rate or spread the load with --sources");
            }
        }

        sb.AppendLine(ci, $"  errors       {Errors:N0}");
        sb.AppendLine(ci, $"  mismatches   {Mismatches:N0}");
        if (FirstError is not null)
        {
            sb.AppendLine(ci, $"  first error  {FirstError}");
        }

        sb.Append(Ok ? "  result       OK" : "  result       FAILED");
        return sb.ToString();
    }

    public static string FormatBytes(double bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (1 << 30)).ToString("0.00 'GiB'", CultureInfo.InvariantCulture),
        >= 1 << 20 => (bytes / (1 << 20)).ToString("0.00 'MiB'", CultureInfo.InvariantCulture),
        >= 1 << 10 => (bytes / (1 << 10)).ToString("0.00 'KiB'", CultureInfo.InvariantCulture),
        _ => bytes.ToString("0 'B'", CultureInfo.InvariantCulture),
    };
}
