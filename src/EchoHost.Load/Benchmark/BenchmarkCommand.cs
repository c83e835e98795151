using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EchoHost.Harness;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// The benchmark: starts the bare baseline and EchoHost (and InspIRCd for chat, when installed), runs every load
/// against each in turn, alternating which goes first, and prints the medians with EchoHost's ratio to the baseline.
/// </summary>
internal static class BenchmarkCommand
{
    private const string Baseline = "bare baseline";
    private const string EchoHostName = "EchoHost";
    private const string InspIrcdName = "InspIRCd";

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
        var inspircd = rows.Any(r => r.IsChat && r.Versus is null) ? InspIrcd.Find(options.InspIrcd) : null;
        var tls = rows.Any(r => r.Key == "tls");
        var ircListener = rows.Any(r => r.Key == "chat-irc");
        var postgresBin = rows.Any(r => r.Key == "chat-scaleout") ? PostgresCluster.FindBinDirectory() : null;
        var work = Directory.CreateTempSubdirectory("echohost-benchmark-").FullName;
        var webSocket = rows.Any(r => r.Key == "ws-echo");
        var ports = FreePorts.Pick(15);
        var (baseTcp, baseUdp, echo, chat, udp, http, irc) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]);
        var (baseTls, echoTls, chatA, chatB, postgresPort, echoIrc) = (ports[7], ports[8], ports[9], ports[10], ports[11], ports[12]);
        var (baseWs, echoWeb) = (ports[13], ports[14]);
        var loopback = IPAddress.Loopback;
        var servers = new List<ChildProcess>();
        PostgresCluster? postgres = null;
        try
        {
            var (certificate, key) = tls ? SelfSignedCertificate.WritePem(work) : ("", "");
            var baselineTcp = Start(servers, ServerProcess.Start("baseline tcp", "dotnet", [options.BaselineDll, "tcp", "--port", $"{baseTcp}"], new Dictionary<string, string>(), work, work));
            var baselineUdp = Start(servers, ServerProcess.Start("baseline udp", "dotnet", [options.BaselineDll, "udp", "--port", $"{baseUdp}"], new Dictionary<string, string>(), work, work));
            var baselineWs = webSocket ? Start(servers, ServerProcess.Start("baseline ws", "dotnet", [options.BaselineDll, "ws", "--port", $"{baseWs}"], new Dictionary<string, string>(), work, work)) : null;
            var baselineTls = tls ? Start(servers, ServerProcess.Start("baseline tls", "dotnet", [options.BaselineDll, "tcp", "--port", $"{baseTls}", "--tls-cert", certificate, "--tls-key", key], new Dictionary<string, string>(), work, work)) : null;
            // EchoHost with the shipped settings: only its ports, and the per-IP limit the load from one address needs.
            // The IRC and Web listeners are named in full, so the run does not depend on the appsettings.json beside the
            // binary defining them, and never takes IRC's port 6667 or the Web port 8081 from a server the user runs.
            static Dictionary<string, string> EchoHostEnvironment(int echo, int chat, int udp, int http, int irc, int web) => new()
            {
                ["EchoHost__Listeners__Echo__Port"] = $"{echo}",
                ["EchoHost__Listeners__Echo__MaxConnectionsPerIp"] = "1000000",
                ["EchoHost__Listeners__Chat__Port"] = $"{chat}",
                ["EchoHost__Listeners__Irc__Protocol"] = "Irc",
                ["EchoHost__Listeners__Irc__Port"] = $"{irc}",
                ["EchoHost__Listeners__Web__Protocol"] = "Web",
                ["EchoHost__Listeners__Web__Port"] = $"{web}",
                ["EchoHost__Listeners__Web__MaxConnectionsPerIp"] = "1000000",
                ["EchoHost__Listeners__UdpEcho__Port"] = $"{udp}",
                ["EchoHost__Http__Port"] = $"{http}",
            };
            var echoHostEnvironment = EchoHostEnvironment(echo, chat, udp, http, echoIrc, echoWeb);
            if (tls)
            {
                // The shipped EchoTls listener, off by default: on, on its own port, with the run's certificate.
                echoHostEnvironment["EchoHost__Listeners__EchoTls__Enabled"] = "true";
                // Named in full, so the run does not depend on the appsettings.json beside the binary defining it.
                echoHostEnvironment["EchoHost__Listeners__EchoTls__Protocol"] = "Echo";
                echoHostEnvironment["EchoHost__Listeners__EchoTls__Port"] = $"{echoTls}";
                echoHostEnvironment["EchoHost__Listeners__EchoTls__MaxConnectionsPerIp"] = "1000000";
                echoHostEnvironment["EchoHost__Listeners__EchoTls__Tls__CertificatePath"] = certificate;
                echoHostEnvironment["EchoHost__Listeners__EchoTls__Tls__KeyPath"] = key;
            }

            var echoHostDirectory = Path.GetDirectoryName(options.EchoHostDll)!;
            var echoHost = Start(servers, ServerProcess.Start(EchoHostName, "dotnet", [options.EchoHostDll], echoHostEnvironment, echoHostDirectory, work));
            var anchor = inspircd is null ? null : Start(servers, InspIrcd.Start(inspircd, irc, work));

            // Chat scale-out: PostgreSQL, then two more EchoHost instances on it with only their chat listener.
            ChildProcess[]? scaleOut = null;
            if (postgresBin is not null)
            {
                postgres = await BenchmarkPostgres.StartAsync(postgresBin, postgresPort);
                scaleOut = [.. new[] { ("A", chatA), ("B", chatB) }.Select(instance => Start(servers, ServerProcess.Start($"EchoHost chat {instance.Item1}", "dotnet", [options.EchoHostDll], new Dictionary<string, string>
                {
                    ["EchoHost__Chat__Postgres"] = postgres.ConnectionString(),
                    ["EchoHost__Listeners__Chat__Port"] = $"{instance.Item2}",
                    ["EchoHost__Listeners__Echo__Enabled"] = "false",
                    ["EchoHost__Listeners__Irc__Protocol"] = "Irc",
                    ["EchoHost__Listeners__Irc__Enabled"] = "false",
                    ["EchoHost__Listeners__Web__Protocol"] = "Web",
                    ["EchoHost__Listeners__Web__Enabled"] = "false",
                    ["EchoHost__Listeners__UdpEcho__Enabled"] = "false",
                    ["EchoHost__Http__Enabled"] = "false",
                }, echoHostDirectory, work)))];
            }

            var startup = TimeSpan.FromSeconds(60);
            await baselineTcp.WaitForTcpAsync(new IPEndPoint(loopback, baseTcp), startup);
            await baselineUdp.WaitForUdpAsync(new IPEndPoint(loopback, baseUdp), startup);
            await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, echo), startup);
            await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, chat), startup);
            await echoHost.WaitForUdpAsync(new IPEndPoint(loopback, udp), startup);
            if (baselineTls is not null)
            {
                await baselineTls.WaitForTcpAsync(new IPEndPoint(loopback, baseTls), startup);
                await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, echoTls), startup);
            }

            if (baselineWs is not null)
            {
                await baselineWs.WaitForTcpAsync(new IPEndPoint(loopback, baseWs), startup);
            }

            if (rows.Any(r => r.Key is "ws-echo" or "ws-chat"))
            {
                await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, echoWeb), startup);
            }

            if (ircListener)
            {
                await echoHost.WaitForTcpAsync(new IPEndPoint(loopback, echoIrc), startup);
            }

            if (anchor is not null)
            {
                await anchor.WaitForTcpAsync(InspIrcd.EndPoint(irc), startup);
            }

            foreach (var (instance, port) in scaleOut?.Zip([chatA, chatB]) ?? [])
            {
                await instance.WaitForTcpAsync(new IPEndPoint(loopback, port), startup);
                await instance.WaitForLogAsync("Chat backplane: connected", startup);
            }

            static LoadTarget[] At(IPEndPoint endPoint, string host = "127.0.0.1") => [new(endPoint, host)];
            static LoadTarget[] AtWebSocket(int port, string path) => [new(new IPEndPoint(IPAddress.Loopback, port), "127.0.0.1", new Uri($"ws://127.0.0.1:{port}{path}"))];

            // Each row: the sides it compares, as (name, servers, targets); a side whose server is missing is skipped.
            Side[] Sides(BenchmarkRow row) => row.Key switch
            {
                "udp" => [new(Baseline, [baselineUdp], At(new(loopback, baseUdp))), new(EchoHostName, [echoHost], At(new(loopback, udp)))],
                "chat" => [new(InspIrcdName, anchor is null ? null : [anchor], At(InspIrcd.EndPoint(irc))), new(EchoHostName, [echoHost], At(new(loopback, chat)))],
                "chat-irc" => [new(InspIrcdName, anchor is null ? null : [anchor], At(InspIrcd.EndPoint(irc))), new(EchoHostName, [echoHost], At(new(loopback, echoIrc)))],
                // SNI localhost: the name the certificate is for.
                "tls" => [new(Baseline, baselineTls is null ? null : [baselineTls], At(new(loopback, baseTls), "localhost")), new(EchoHostName, [echoHost], At(new(loopback, echoTls), "localhost"))],
                "ws-echo" => [new(Baseline, baselineWs is null ? null : [baselineWs], AtWebSocket(baseWs, "/ws/echo")), new(EchoHostName, [echoHost], AtWebSocket(echoWeb, "/ws/echo"))],
                "ws-chat" => [new(EchoHostName, [echoHost], AtWebSocket(echoWeb, "/ws/chat"))],
                "chat-scaleout" => [new(EchoHostName, scaleOut, [.. At(new(loopback, chatA)), .. At(new(loopback, chatB))], postgres)],
                // Idle connections are measured against processes started for them: "beyond idle" is beyond a fresh,
                // idle process, not beyond whatever the heap grew to under the loads before.
                "hold" => [.. freshHold()],
                _ => [new(Baseline, [baselineTcp], At(new(loopback, baseTcp))), new(EchoHostName, [echoHost], At(new(loopback, echo)))],
            };

            // Starts a fresh baseline and EchoHost for a hold row; they are measured once, then stopped.
            IEnumerable<Side> freshHold()
            {
                var p = FreePorts.Pick(7);
                var baseline = Start(servers, ServerProcess.Start("baseline tcp (hold)", "dotnet", [options.BaselineDll, "tcp", "--port", $"{p[0]}"], new Dictionary<string, string>(), work, work));
                var host = Start(servers, ServerProcess.Start($"{EchoHostName} (hold)", "dotnet", [options.EchoHostDll], EchoHostEnvironment(p[1], p[2], p[3], p[4], p[5], p[6]), echoHostDirectory, work));
                Task.WaitAll(baseline.WaitForTcpAsync(new IPEndPoint(loopback, p[0]), startup), host.WaitForTcpAsync(new IPEndPoint(loopback, p[1]), startup));
                // Let start-up settle (tiered compilation, the first metrics collection) before the idle figure.
                Thread.Sleep(TimeSpan.FromSeconds(2));
                return [new(Baseline, [baseline], At(new(loopback, p[0]))), new(EchoHostName, [host], At(new(loopback, p[1])))];
            }

            var samples = new Dictionary<(string Row, string Side), List<Sample>>();
            for (var round = 0; round < options.Rounds && !aborted.IsCancellationRequested; round++)
            {
                foreach (var row in rows)
                {
                    var sides = Sides(row);
                    foreach (var (name, server, targets, database) in round % 2 == 0 ? sides : sides.Reverse())
                    {
                        if (server is null || aborted.IsCancellationRequested)
                        {
                            continue;
                        }

                        var load = row.Load(targets);
                        if (round == 0 && load.Warmup > TimeSpan.Zero)
                        {
                            load = load with { Warmup = options.FirstWarmup };
                        }

                        if (row.IsChat && name == InspIrcdName)
                        {
                            load = load with { Dialect = ChatDialect.Irc };
                        }

                        var sample = await MeasureAsync(load, server, database, options.Progress ? error : null, aborted);
                        if (row.Key == "hold")
                        {
                            // Stopped after their one measurement: the next round's hold starts them afresh.
                            foreach (var fresh in server)
                            {
                                servers.Remove(fresh);
                                fresh.Dispose();
                            }
                        }

                        (samples.TryGetValue((row.Key, name), out var list) ? list : samples[(row.Key, name)] = []).Add(sample);
                        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"[round {round + 1}/{options.Rounds}] {row.Title} against {name}: {sample.Result.Ops:N0} ops, {sample.Result.OpsPerSecond:N0}/s, server CPU {sample.CpuSeconds:0.00} s, RSS {sample.RssBeforeKiB / 1024.0:0.0} → {sample.RssAfterKiB / 1024.0:0.0} MiB, failures {sample.Result.Failures}{(sample.Result.FirstError is { } e ? " (" + e + ")" : "")}"));
                        await Task.Delay(row.Key is "churn" or "hold" ? 1000 : 300, CancellationToken.None); // let closes settle
                    }
                }
            }

            var table = Tabulate(rows, samples, anchor is not null, postgres is not null);
            var machine = Machine.Describe();
            var settings = $"{options.Rounds} round(s), {options.Duration.TotalSeconds:0.###} s per load after {options.Warmup.TotalSeconds:0.###} s warm-up ({options.FirstWarmup.TotalSeconds:0.###} s in round 1){(options.Quick ? " (--quick)" : "")}; medians; the ratio is the median of the rounds' ratios (lowest–highest round)";
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
        catch (Exception ex) when (ex is BenchmarkException or HarnessException)
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

            if (postgres is not null)
            {
                await postgres.DisposeAsync();
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

    private static ChildProcess Start(List<ChildProcess> servers, ChildProcess server)
    {
        servers.Add(server);
        return server;
    }

    /// <summary>The servers of one side of a row (several instances are summed), and the database they share, if any.</summary>
    internal sealed record Side(string Name, IReadOnlyList<ChildProcess>? Servers, IReadOnlyList<LoadTarget> Targets, PostgresCluster? Database = null);

    private static async Task<Sample> MeasureAsync(LoadOptions load, IReadOnlyList<ChildProcess> servers, PostgresCluster? database, TextWriter? progress, CancellationToken aborted)
    {
        ProcessFigures[] Each() => [.. servers.Select(s => s.Figures())];
        ProcessFigures[]? before = null, after = null;
        ProcessFigures? databaseBefore = null, databaseAfter = null;
        var hooks = new LoadHooks
        {
            MeasureStarted = () => (before, databaseBefore) = (Each(), database?.Figures()),
            MeasureEnded = () => (after, databaseAfter) = (Each(), database?.Figures()),
        };
        var result = await LoadProgram.RunAsync(load, hooks, progress, aborted);
        var start = before ?? Each();
        var end = after ?? Each();
        var (first, last) = (start.Aggregate((a, b) => a + b), end.Aggregate((a, b) => a + b));
        var databaseCpu = database is null ? double.NaN : (databaseAfter ?? database.Figures()).CpuSeconds - (databaseBefore ?? database.Figures()).CpuSeconds;
        return new Sample(result, last.CpuSeconds - first.CpuSeconds, first.RssKiB, last.RssKiB, databaseCpu, last.SystemSeconds - first.SystemSeconds,
            [.. end.Zip(start, (e, s) => e.CpuSeconds - s.CpuSeconds)]);
    }

    /// <summary>
    /// One line of the table. <see cref="Ratio"/> is the median of <see cref="RoundRatios"/>, each round's EchoHost
    /// figure over its baseline figure, with the lowest and highest round in brackets.
    /// </summary>
    internal sealed record TableRow(string Load, string Figure, string BaselineName, string Baseline, string EchoHost, string Ratio, long BaselineFailures, long EchoHostFailures, double? BaselineValue, double? EchoHostValue, double[] RoundRatios)
    {
        public long Failures => BaselineFailures + EchoHostFailures;
    }

    /// <summary>The side a row's EchoHost figures are compared with: InspIRCd for chat (line or IRC), else the bare baseline.</summary>
    private static string BaselineSide(BenchmarkRow row) => row.Key is "chat" or "chat-irc" ? InspIrcdName : Baseline;

    private static List<TableRow> Tabulate(IReadOnlyList<BenchmarkRow> rows, Dictionary<(string, string), List<Sample>> samples, bool anchorInstalled, bool postgresInstalled)
    {
        var table = new List<TableRow>();
        var ci = CultureInfo.InvariantCulture;
        foreach (var row in rows)
        {
            var e = samples.GetValueOrDefault((row.Key, EchoHostName)) ?? [];
            long Failures(List<Sample> list) => list.Sum(s => s.Result.Failures);
            foreach (var figure in row.Figures)
            {
                // Either the row's own baseline side, or EchoHost in the row this figure (or the whole row) compares with.
                var versus = figure.Versus ?? row.Versus;
                var baselineName = versus is null ? BaselineSide(row) : $"EchoHost ({versus} row)";
                var b = (versus is null ? samples.GetValueOrDefault((row.Key, baselineName)) : samples.GetValueOrDefault((versus, EchoHostName))) ?? [];
                // No value (not run, or not defined for that side, such as PostgreSQL's CPU on one instance) is null: JSON has no NaN.
                double? bv = b.Count > 0 && Median(b.Select(figure.Value)) is var bm && double.IsFinite(bm) ? bm : null;
                double? ev = e.Count > 0 && Median(e.Select(figure.Value)) is var em && double.IsFinite(em) ? em : null;
                var bText = bv is { } x ? x.ToString(figure.Format, ci) : row.IsChat && versus is null && !anchorInstalled ? InspIrcd.InstallHint : "—";
                var eText = ev is { } y ? y.ToString(figure.Format, ci) : row.Key == "chat-scaleout" && !postgresInstalled ? BenchmarkPostgres.InstallHint : "—";
                // The ratio of each round, whose two sides ran one after the other: the machine's speed drifts over a run
                // (the baseline alone measured 73 to 138 µs per churned connection across one run's rounds), and a ratio
                // of the two sides' medians could pair a fast round on one side with a slow round on the other.
                double[] rounds = [.. Enumerable.Range(0, Math.Min(b.Count, e.Count))
                    .Select(i => (B: figure.Value(b[i]), E: figure.Value(e[i])))
                    .Where(p => double.IsFinite(p.B) && p.B > 0 && double.IsFinite(p.E))
                    .Select(p => p.E / p.B)];
                var ratio = rounds.Length == 0 ? "—"
                    : Median(rounds).ToString("0.00", ci) + "×" + (rounds.Length > 1 ? string.Create(ci, $" ({rounds.Min():0.00}–{rounds.Max():0.00})") : "");
                // A row compared with another counts its own failures only: the other row's line reports those.
                table.Add(new TableRow(row.Title, figure.Name, baselineName, bText, eText, ratio, versus is null ? Failures(b) : 0, Failures(e), bv, ev, rounds));
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
