using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EchoHost.Harness;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// The benchmark: starts the bare baseline, the plain socket floor (for the echo rows) and EchoHost (and InspIRCd for
/// chat, when installed), runs every load against each in turn, alternating the order, and prints the medians with
/// EchoHost's ratios to the baseline and the floor.
/// </summary>
internal static class BenchmarkCommand
{
    private const string Baseline = BenchmarkTable.Baseline;
    private const string Floor = BenchmarkTable.Floor;
    private const string EchoHostName = BenchmarkTable.EchoHostName;
    private const string InspIrcdName = BenchmarkTable.InspIrcdName;

    /// <summary>
    /// The plain socket floor's environment: the issue's definition of it includes completions run inline on the
    /// socket engine's thread (no hop to the thread pool).
    /// </summary>
    private static Dictionary<string, string> FloorEnvironment() => new() { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" };

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
        var floorRows = rows.Any(r => r.Floor && r.Key != "hold");
        var ports = FreePorts.Pick(16);
        var (baseTcp, baseUdp, echo, chat, udp, http, irc) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]);
        var (baseTls, echoTls, chatA, chatB, postgresPort, echoIrc) = (ports[7], ports[8], ports[9], ports[10], ports[11], ports[12]);
        var (baseWs, echoWeb, baseSocket) = (ports[13], ports[14], ports[15]);
        var loopback = IPAddress.Loopback;
        var servers = new List<ChildProcess>();
        PostgresCluster? postgres = null;
        try
        {
            var (certificate, key) = tls ? SelfSignedCertificate.WritePem(work) : ("", "");
            var baselineTcp = Start(servers, ServerProcess.Start("baseline tcp", "dotnet", [options.BaselineDll, "tcp", "--port", $"{baseTcp}"], new Dictionary<string, string>(), work, work));
            var baselineUdp = Start(servers, ServerProcess.Start("baseline udp", "dotnet", [options.BaselineDll, "udp", "--port", $"{baseUdp}"], new Dictionary<string, string>(), work, work));
            var baselineSocket = floorRows ? Start(servers, ServerProcess.Start("baseline socket", "dotnet", [options.BaselineDll, "socket", "--port", $"{baseSocket}"], FloorEnvironment(), work, work)) : null;
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

            if (baselineSocket is not null)
            {
                await baselineSocket.WaitForTcpAsync(new IPEndPoint(loopback, baseSocket), startup);
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
                // The plain socket floor runs between the two, so each round's order (reversed every other round) keeps
                // it next to both.
                _ when row.Floor && baselineSocket is not null => [new(Baseline, [baselineTcp], At(new(loopback, baseTcp))), new(Floor, [baselineSocket], At(new(loopback, baseSocket))), new(EchoHostName, [echoHost], At(new(loopback, echo)))],
                _ => [new(Baseline, [baselineTcp], At(new(loopback, baseTcp))), new(EchoHostName, [echoHost], At(new(loopback, echo)))],
            };

            // Starts a fresh baseline, socket floor and EchoHost for a hold row; they are measured once, then stopped.
            IEnumerable<Side> freshHold()
            {
                var p = FreePorts.Pick(8);
                var baseline = Start(servers, ServerProcess.Start("baseline tcp (hold)", "dotnet", [options.BaselineDll, "tcp", "--port", $"{p[0]}"], new Dictionary<string, string>(), work, work));
                var floor = Start(servers, ServerProcess.Start("baseline socket (hold)", "dotnet", [options.BaselineDll, "socket", "--port", $"{p[7]}"], FloorEnvironment(), work, work));
                var host = Start(servers, ServerProcess.Start($"{EchoHostName} (hold)", "dotnet", [options.EchoHostDll], EchoHostEnvironment(p[1], p[2], p[3], p[4], p[5], p[6]), echoHostDirectory, work));
                Task.WaitAll(
                    baseline.WaitForTcpAsync(new IPEndPoint(loopback, p[0]), startup),
                    floor.WaitForTcpAsync(new IPEndPoint(loopback, p[7]), startup),
                    host.WaitForTcpAsync(new IPEndPoint(loopback, p[1]), startup));
                // Let start-up settle (tiered compilation, the first metrics collection) before the idle figure.
                Thread.Sleep(TimeSpan.FromSeconds(2));
                return [new(Baseline, [baseline], At(new(loopback, p[0]))), new(Floor, [floor], At(new(loopback, p[7]))), new(EchoHostName, [host], At(new(loopback, p[1])))];
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

            var table = BenchmarkTable.Tabulate(rows, samples, anchor is not null, postgres is not null);
            var machine = Machine.Describe();
            var settings = $"{options.Rounds} round(s), {options.Duration.TotalSeconds:0.###} s per load after {options.Warmup.TotalSeconds:0.###} s warm-up ({options.FirstWarmup.TotalSeconds:0.###} s in round 1){(options.Quick ? " (--quick)" : "")}; medians; the ratio is the median of the rounds' ratios (lowest–highest round)";
            if (options.Json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new { machine, settings, rows = table }, LoadResult.JsonOptions));
            }
            else
            {
                await output.WriteLineAsync(BenchmarkTable.ToMarkdown(machine, settings, table));
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
