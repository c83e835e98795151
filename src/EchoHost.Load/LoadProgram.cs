using EchoHost.Load.Benchmark;
using EchoHost.Load.Modes;

namespace EchoHost.Load;

/// <summary>
/// echohost-load: a load client for any TCP/UDP echo server or line chat server (EchoHost's own or IRC), and the
/// benchmark that compares EchoHost with a bare baseline. Exit code 0 when every operation succeeded, 1 when any
/// failed (errors, mismatches, lost datagrams, missing or duplicated chat deliveries), 2 for bad arguments.
/// </summary>
public static class LoadProgram
{
    public static async Task<int> Main(string[] args)
    {
        using var aborted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C ends the run early and still prints the summary; a second one kills the process.
            if (!aborted.IsCancellationRequested)
            {
                e.Cancel = true;
                aborted.Cancel();
            }
        };
        return await RunAsync(args, Console.Out, Console.Error, aborted.Token);
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken aborted = default)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            await output.WriteAsync(HelpText.Text);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            if (args[0] == "benchmark")
            {
                if (args.Skip(1).Any(a => a is "--help" or "-h"))
                {
                    await output.WriteAsync(HelpText.Text);
                    return 0;
                }

                return await BenchmarkCommand.RunAsync(BenchmarkOptions.Parse(args[1..]), output, error, aborted);
            }

            if (!Enum.TryParse<LoadMode>(args[0], ignoreCase: true, out var mode) || !Enum.IsDefined(mode) || args[0].Any(char.IsDigit))
            {
                throw new UsageException($"unknown mode '{args[0]}'; use pingpong, stream, churn, hold, udp, chat or benchmark (see --help)");
            }

            if (args.Skip(1).Any(a => a is "--help" or "-h"))
            {
                await output.WriteAsync(HelpText.Text);
                return 0;
            }

            var options = LoadOptionsParser.Parse(mode, args[1..]);
            var showProgress = options.Progress || (!Console.IsErrorRedirected && ReferenceEquals(error, Console.Error));
            var result = await RunAsync(options, hooks: null, showProgress ? error : null, aborted);
            await output.WriteLineAsync(options.Json ? result.ToJson() : result.ToText());
            return result.Ok ? 0 : 1;
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync($"echohost-load: {ex.Message}");
            return 2;
        }
    }

    /// <summary>Runs one load and returns its figures; the benchmark calls this directly.</summary>
    internal static async Task<LoadResult> RunAsync(LoadOptions options, LoadHooks? hooks, TextWriter? progress, CancellationToken aborted)
    {
        var run = new LoadRun(options, hooks, aborted);
        using var done = new CancellationTokenSource();
        var watchdog = run.WatchdogAsync(done.Token);
        var progressLine = progress is null ? Task.CompletedTask : ProgressLine.RunAsync(run, progress, done.Token);
        ChatSummary? chat = null;
        string latencyOf;
        try
        {
            switch (options.Mode)
            {
                case LoadMode.Hold:
                    latencyOf = HoldMode.LatencyOf;
                    await HoldMode.RunAsync(run);
                    break;
                case LoadMode.Chat:
                    latencyOf = ChatMode.LatencyOf;
                    chat = await ChatMode.RunAsync(run);
                    break;
                default:
                    var clock = run.RunClockAsync();
                    (latencyOf, var work) = options.Mode switch
                    {
                        LoadMode.PingPong => (PingPongMode.LatencyOf, PingPongMode.RunAsync(run)),
                        LoadMode.Stream => (StreamMode.LatencyOf, StreamMode.RunAsync(run)),
                        LoadMode.Churn => (ChurnMode.LatencyOf, ChurnMode.RunAsync(run)),
                        _ => (UdpMode.LatencyOf, UdpMode.RunAsync(run)),
                    };
                    await work;
                    run.StopMeasuring(); // every worker failed, or the count is used up
                    await clock;
                    break;
            }
        }
        finally
        {
            await done.CancelAsync();
            await watchdog;
            await progressLine;
        }

        return LoadResult.From(run, latencyOf, chat);
    }
}
