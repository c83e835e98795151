using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// The benchmark: starts the bare baseline and EchoHost (and InspIRCd for chat, when installed), runs every load
/// against each in turn, alternating which goes first, and prints the medians with EchoHost's ratio to the baseline.
/// </summary>
internal static class BenchmarkCommand
{
    private const string Baseline = "bare baseline";
    private const string EchoHostName = "EchoHost";

    public static async Task<int> RunAsync(BenchmarkOptions options, TextWriter output, TextWriter error, CancellationToken aborted)
    {
        foreach (var (dll, flag) in new[] { (options.EchoHostDll, "--echohost"), (options.BaselineDll, "--baseline") })
        {
            if (!File.Exists(dll))
            {
                throw new UsageException($"{dll} not found; build it (src/EchoHost.Load/benchmark.sh does) or give its path with {flag}");
            }
        }

        CheckFileLimit(options.Hold);
        var rows = BenchmarkRows.Create(options);
        var inspircd = rows.Any(r => r.IsChat) ? InspIrcd.Find(options.InspIrcd) : null;
        var work = Directory.CreateTempSubdirectory("echohost-benchmark-").FullName;
        var ports = FreePorts.Pick(7);
        var (baseTcp, baseUdp, echo, chat, udp, http, irc) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]);
        var loopback = IPAddress.Loopback;
        var servers = new List<ServerProcess>();
        try
        {
            var baselineTcp = Start(servers, ServerProcess.Start("baseline tcp", "dotnet", [options.BaselineDll, "tcp", "--port", $"{baseTcp}"], new Dictionary<string, string>(), work, work));
            var baselineUdp = Start(servers, ServerProcess.Start("baseline udp", "dotnet", [options.BaselineDll, "udp", "--port", $"{baseUdp}"], new Dictionary<string, string>(), work, work));
            var echoHost = Start(servers, ServerProcess.Start(EchoHostName, "dotnet", [options.EchoHostDll], new Dictionary<string, string>
            {
                ["EchoHost__Listeners__Echo__Port"] = $"{echo}",
                ["EchoHost__Listeners__Echo__MaxConnectionsPerIp"] = "1000000",
                ["EchoHost__Listeners__Chat__Port"] = $"{chat}",
                ["EchoHost__Listeners__UdpEcho__Port"] = $"{udp}",
                ["EchoHost__Http__Port"] = $"{http}",
            }, Path.GetDirectoryName(options.EchoHostDll)!, work));
            var anchor = inspircd is null ? null : Start(servers, InspIrcd.Start(inspircd, irc, work));

            var startup = TimeSpan.FromSeconds(60);
            await baselineTcp.WaitForTcpAsync(new IPEndPoint(loopback, baseTcp), startup);
            await baselineUdp.WaitForUdpAsync(new IPEndPoint(loopback, baseUdp), startup);
            await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, echo), startup);
            await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, chat), startup);
            await echoHost.WaitForUdpAsync(new IPEndPoint(loopback, udp), startup);
            if (anchor is not null)
            {
                await anchor.WaitForTcpAsync(InspIrcd.EndPoint(irc), startup);
            }

            // Each row: the two sides it compares, as (name, server, target).
            (string Name, ServerProcess? Server, IPEndPoint Target)[] Sides(BenchmarkRow row) => row.Key switch
            {
                "udp" => [(Baseline, baselineUdp, new(loopback, baseUdp)), (EchoHostName, echoHost, new(loopback, udp))],
                "chat" => [("InspIRCd", anchor, InspIrcd.EndPoint(irc)), (EchoHostName, echoHost, new(loopback, chat))],
                _ => [(Baseline, baselineTcp, new(loopback, baseTcp)), (EchoHostName, echoHost, new(loopback, echo))],
            };

            var samples = new Dictionary<(string Row, string Side), List<Sample>>();
            for (var round = 0; round < options.Rounds && !aborted.IsCancellationRequested; round++)
            {
                foreach (var row in rows)
                {
                    var sides = Sides(row);
                    foreach (var (name, server, target) in round % 2 == 0 ? sides : sides.Reverse())
                    {
                        if (server is null || aborted.IsCancellationRequested)
                        {
                            continue;
                        }

                        var load = row.Load(target);
                        if (row.IsChat && name == "InspIRCd")
                        {
                            load = load with { Dialect = ChatDialect.Irc };
                        }

                        var sample = await MeasureAsync(load, server, options.Progress ? error : null, aborted);
                        (samples.TryGetValue((row.Key, name), out var list) ? list : samples[(row.Key, name)] = []).Add(sample);
                        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"[round {round + 1}/{options.Rounds}] {row.Title} against {name}: {sample.Result.Ops:N0} ops, {sample.Result.OpsPerSecond:N0}/s, server CPU {sample.CpuSeconds:0.00} s, RSS {sample.RssBeforeKiB / 1024.0:0.0} → {sample.RssAfterKiB / 1024.0:0.0} MiB, failures {sample.Result.Failures}{(sample.Result.FirstError is { } e ? " (" + e + ")" : "")}"));
                        await Task.Delay(row.Key is "churn" or "hold" ? 1000 : 300, CancellationToken.None); // let closes settle
                    }
                }
            }

            var table = Tabulate(rows, Sides, samples, anchor is not null);
            var machine = Machine.Describe();
            var settings = $"{options.Rounds} round(s), {options.Duration.TotalSeconds:0.###} s per load after {options.Warmup.TotalSeconds:0.###} s warm-up{(options.Quick ? " (--quick)" : "")}; medians";
            if (options.Json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new { machine, settings, rows = table }, LoadResult.JsonOptions));
            }
            else
            {
                await output.WriteLineAsync(ToMarkdown(machine, settings, table));
            }

            return table.Any(t => t.Failures > 0) ? 1 : 0;
        }
        catch (BenchmarkException ex)
        {
            await error.WriteLineAsync($"echohost-load benchmark: {ex.Message}");
            return 1;
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static ServerProcess Start(List<ServerProcess> servers, ServerProcess server)
    {
        servers.Add(server);
        return server;
    }

    private static async Task<Sample> MeasureAsync(LoadOptions load, ServerProcess server, TextWriter? progress, CancellationToken aborted)
    {
        ProcessFigures? before = null, after = null;
        var hooks = new LoadHooks
        {
            MeasureStarted = () => before = server.Figures(),
            MeasureEnded = () => after = server.Figures(),
        };
        var result = await LoadProgram.RunAsync(load, hooks, progress, aborted);
        var start = before ?? server.Figures();
        var end = after ?? server.Figures();
        return new Sample(result, end.CpuSeconds - start.CpuSeconds, start.RssKiB, end.RssKiB);
    }

    /// <summary>One line of the table.</summary>
    internal sealed record TableRow(string Load, string Figure, string BaselineName, string Baseline, string EchoHost, string Ratio, long BaselineFailures, long EchoHostFailures, double? BaselineValue, double? EchoHostValue)
    {
        public long Failures => BaselineFailures + EchoHostFailures;
    }

    private static List<TableRow> Tabulate(IReadOnlyList<BenchmarkRow> rows, Func<BenchmarkRow, (string Name, ServerProcess? Server, IPEndPoint Target)[]> sides, Dictionary<(string, string), List<Sample>> samples, bool anchorInstalled)
    {
        var table = new List<TableRow>();
        var ci = CultureInfo.InvariantCulture;
        foreach (var row in rows)
        {
            var baselineName = sides(row)[0].Name;
            var b = samples.GetValueOrDefault((row.Key, baselineName)) ?? [];
            var e = samples.GetValueOrDefault((row.Key, EchoHostName)) ?? [];
            long Failures(List<Sample> list) => list.Sum(s => s.Result.Failures);
            foreach (var figure in row.Figures)
            {
                double? bv = b.Count > 0 ? Median(b.Select(figure.Value)) : null;
                double? ev = e.Count > 0 ? Median(e.Select(figure.Value)) : null;
                var bText = bv is { } x ? x.ToString(figure.Format, ci) : row.IsChat && !anchorInstalled ? InspIrcd.InstallHint : "—";
                var eText = ev is { } y ? y.ToString(figure.Format, ci) : "—";
                var ratio = bv is > 0 && ev is { } r && double.IsFinite(r) && double.IsFinite(bv.Value) ? (r / bv.Value).ToString("0.00", ci) + "×" : "—";
                table.Add(new TableRow(row.Title, figure.Name, baselineName, bText, eText, ratio, Failures(b), Failures(e), bv, ev));
            }
        }

        return table;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string ToMarkdown(Machine machine, string settings, List<TableRow> table)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.Cores} cores, {machine.Cpu}, {machine.Os}, kernel {machine.Kernel}, {machine.Runtime}; {settings}.");
        sb.AppendLine();
        sb.AppendLine("| load | figure | bare baseline (chat: InspIRCd) | EchoHost | EchoHost / baseline | failures (baseline / EchoHost) |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in table)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {row.Load} | {row.Figure} | {row.Baseline} | {row.EchoHost} | {row.Ratio} | {row.BaselineFailures} / {row.EchoHostFailures} |");
        }

        return sb.ToString().TrimEnd();
    }

    private static void CheckFileLimit(int hold)
    {
        var needed = hold + 2000;
        foreach (var line in File.Exists("/proc/self/limits") ? File.ReadLines("/proc/self/limits") : [])
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var soft = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
                // .NET raises the soft limit to the hard limit at start-up; what is left is the hard limit.
                if (long.TryParse(soft, out var limit) && limit < needed)
                {
                    throw new BenchmarkException($"the open file limit is {limit}, {needed} are needed for --hold {hold}; raise it (ulimit -n {needed}) or lower --hold");
                }
            }
        }
    }
}

/// <summary>The machine a table came from.</summary>
internal sealed record Machine(int Cores, string Cpu, string Os, string Kernel, string Runtime)
{
    public static Machine Describe()
    {
        static string Read(string path, string prefix, char separator) =>
            File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?.Split(separator, 2)[1].Trim().Trim('"') ?? "?" : "?";
        return new Machine(
            Environment.ProcessorCount,
            Read("/proc/cpuinfo", "model name", ':'),
            Read("/etc/os-release", "PRETTY_NAME", '='),
            File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription);
    }
}
