using System.Diagnostics;
using System.Globalization;

namespace EchoHost.Load;

/// <summary>The live line on stderr: once a second, ops/s over the last second, errors, mismatches, elapsed time.</summary>
internal static class ProgressLine
{
    public static async Task RunAsync(LoadRun run, TextWriter error, CancellationToken done)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long lastOps = 0;
        var lastAt = Stopwatch.GetTimestamp();
        var width = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(done))
            {
                long ops = 0, errors = 0, mismatches = 0;
                WorkerStats[] workers;
                lock (run.Workers)
                {
                    workers = [.. run.Workers];
                }

                // During the warm-up, the warm-up's own operations: the measured ones start at zero after it.
                var warmingUp = run.MeasureStart == 0;
                foreach (var w in workers)
                {
                    ops += warmingUp ? Volatile.Read(ref w.WarmupOps) : Volatile.Read(ref w.Ops);
                    errors += Volatile.Read(ref w.Errors) + Volatile.Read(ref w.Lost);
                    mismatches += Volatile.Read(ref w.Mismatches);
                }

                var now = Stopwatch.GetTimestamp();
                var rate = Math.Max(0, ops - lastOps) / Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
                (lastOps, lastAt) = (ops, now);
                var phase = run.Measuring ? "" : run.MeasureStart == 0 ? " (warm-up)" : "";
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"{LoadOptions.ModeName(run.Options.Mode)} {Stopwatch.GetElapsedTime(run.Started).TotalSeconds,6:0.0}s{phase}  {rate,12:N0} ops/s  {ops,14:N0} ops  errors {errors:N0}  mismatches {mismatches:N0}");
                width = Math.Max(width, line.Length);
                await error.WriteAsync("\r" + line.PadRight(width));
                await error.FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (width > 0)
        {
            await error.WriteAsync("\r" + new string(' ', width) + "\r");
        }
    }
}
