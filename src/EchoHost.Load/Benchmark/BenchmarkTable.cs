using System.Globalization;
using System.Text;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// One line of the table. <see cref="Ratio"/> is the median of <see cref="RoundRatios"/>, each round's EchoHost
/// figure over its baseline figure, with the lowest and highest round in brackets. The <c>Floor…</c> members are the
/// same against the plain socket floor, for the rows that run it (null otherwise).
/// </summary>
internal sealed record TableRow(string Load, string Figure, string BaselineName, string Baseline, string EchoHost, string Ratio, long BaselineFailures, long EchoHostFailures, double? BaselineValue, double? EchoHostValue, double[] RoundRatios)
{
    public string? FloorName { get; init; }
    public string? Floor { get; init; }
    public double? FloorValue { get; init; }
    public string? FloorRatio { get; init; }
    public double[]? FloorRoundRatios { get; init; }
    public long? FloorFailures { get; init; }

    public long Failures => BaselineFailures + EchoHostFailures + (FloorFailures ?? 0);
}

/// <summary>The benchmark's samples as a table: medians over rounds, and EchoHost's ratios to the baseline and the floor.</summary>
internal static class BenchmarkTable
{
    public const string Baseline = "bare baseline";
    public const string Floor = "plain socket floor";
    public const string EchoHostName = "EchoHost";
    public const string InspIrcdName = "InspIRCd";

    /// <summary>The side a row's EchoHost figures are compared with: InspIRCd for chat (line or IRC), else the bare baseline.</summary>
    public static string BaselineSide(BenchmarkRow row) => row.Key is "chat" or "chat-irc" ? InspIrcdName : Baseline;

    public static List<TableRow> Tabulate(IReadOnlyList<BenchmarkRow> rows, Dictionary<(string, string), List<Sample>> samples, bool anchorInstalled, bool postgresInstalled)
    {
        var table = new List<TableRow>();
        foreach (var row in rows)
        {
            var e = samples.GetValueOrDefault((row.Key, EchoHostName)) ?? [];
            var f = samples.GetValueOrDefault((row.Key, Floor)) ?? [];
            foreach (var figure in row.Figures)
            {
                // Either the row's own baseline side, or EchoHost in the row this figure (or the whole row) compares with.
                var versus = figure.Versus ?? row.Versus;
                var baselineName = versus is null ? BaselineSide(row) : $"EchoHost ({versus} row)";
                var b = (versus is null ? samples.GetValueOrDefault((row.Key, baselineName)) : samples.GetValueOrDefault((versus, EchoHostName))) ?? [];
                var bv = MedianOf(b, figure);
                var ev = MedianOf(e, figure);
                var bText = bv is { } x ? Text(x, figure) : row.IsChat && versus is null && !anchorInstalled ? InspIrcd.InstallHint : "—";
                var eText = ev is { } y ? Text(y, figure) : row.Key == "chat-scaleout" && !postgresInstalled ? BenchmarkPostgres.InstallHint : "—";
                var (rounds, ratio) = Compare(figure, b, e);
                // A row compared with another counts its own failures only: the other row's line reports those.
                var line = new TableRow(row.Title, figure.Name, baselineName, bText, eText, ratio, versus is null ? Failures(b) : 0, Failures(e), bv, ev, rounds);
                if (row.Floor && versus is null)
                {
                    var fv = MedianOf(f, figure);
                    var (floorRounds, floorRatio) = Compare(figure, f, e);
                    line = line with
                    {
                        FloorName = Floor,
                        Floor = fv is { } z ? Text(z, figure) : "—",
                        FloorValue = fv,
                        FloorRatio = floorRatio,
                        FloorRoundRatios = floorRounds,
                        FloorFailures = Failures(f),
                    };
                }

                table.Add(line);
            }
        }

        return table;
    }

    public static string ToMarkdown(Machine machine, string settings, List<TableRow> table)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.Cores} cores, {machine.Cpu}, {machine.Os}, kernel {machine.Kernel}, {machine.Runtime}; {settings}.");
        sb.AppendLine();
        sb.AppendLine("| load | figure | bare baseline (chat: InspIRCd) | plain socket floor | EchoHost | EchoHost / baseline | EchoHost / floor | failures (baseline / floor / EchoHost) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in table)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Load} | {row.Figure} | {row.Baseline} | {row.Floor ?? ""} | {row.EchoHost} | {row.Ratio} | {row.FloorRatio ?? ""} | {row.BaselineFailures} / {row.FloorFailures?.ToString(CultureInfo.InvariantCulture) ?? "—"} / {row.EchoHostFailures} |");
        }

        return sb.ToString().TrimEnd();
    }

    private static long Failures(List<Sample> list) => list.Sum(s => s.Result.Failures);

    /// <summary>The median over rounds; null when there is none (not run, or not defined for that side): JSON has no NaN.</summary>
    private static double? MedianOf(List<Sample> samples, Figure figure) =>
        samples.Count > 0 && Median(samples.Select(figure.Value)) is var m && double.IsFinite(m) ? m : null;

    /// <summary>A value as the table prints it; an unbounded fairness (a connection served nothing) as ∞.</summary>
    private static string Text(double value, Figure figure) =>
        value >= Fairness.Unbounded ? "∞" : value.ToString(figure.Format, CultureInfo.InvariantCulture);

    /// <summary>
    /// The ratio of each round, whose sides ran one after the other: the machine's speed drifts over a run (the baseline
    /// alone measured 73 to 138 µs per churned connection across one run's rounds), and a ratio of the two sides'
    /// medians could pair a fast round on one side with a slow round on the other. A round with an unbounded fairness
    /// on either side has no ratio.
    /// </summary>
    private static (double[] Rounds, string Text) Compare(Figure figure, List<Sample> b, List<Sample> e)
    {
        var ci = CultureInfo.InvariantCulture;
        double[] rounds = [.. Enumerable.Range(0, Math.Min(b.Count, e.Count))
            .Select(i => (B: figure.Value(b[i]), E: figure.Value(e[i])))
            .Where(p => double.IsFinite(p.B) && p.B > 0 && double.IsFinite(p.E) && p.B < Fairness.Unbounded && p.E < Fairness.Unbounded)
            .Select(p => p.E / p.B)];
        var text = rounds.Length == 0 ? "—"
            : Median(rounds).ToString("0.00", ci) + "×" + (rounds.Length > 1 ? string.Create(ci, $" ({rounds.Min():0.00}–{rounds.Max():0.00})") : "");
        return (rounds, text);
    }

    /// <summary>The median; an unbounded fairness (<see cref="Fairness.Unbounded"/>) in the middle makes it unbounded too.</summary>
    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var (low, high) = (sorted[(sorted.Length - 1) / 2], sorted[sorted.Length / 2]);
        return high >= Fairness.Unbounded ? Fairness.Unbounded : (low + high) / 2;
    }
}
