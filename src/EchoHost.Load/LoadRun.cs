using System.Diagnostics;
using System.Net.Sockets;

namespace EchoHost.Load;

/// <summary>Calls a benchmark makes at the edges of the measured phase (to read the server's CPU and memory there).</summary>
internal sealed class LoadHooks
{
    /// <summary>The warm-up is over; what counts starts now.</summary>
    public Action? MeasureStarted { get; init; }

    /// <summary>The measured phase is over (before connections are closed).</summary>
    public Action? MeasureEnded { get; init; }

    /// <summary>Hold: every connection is open and idle; the hold starts.</summary>
    public Action? Held { get; init; }
}

/// <summary>
/// The state one run shares between its workers: the clock, the stop signal, the count budget and every worker's
/// counters. Workers count into their own <see cref="WorkerStats"/>, so the hot loops share nothing.
/// </summary>
internal sealed class LoadRun
{
    private readonly List<WorkerStats> _workers = [];
    private readonly CancellationTokenSource _stop = new();
    private long _remaining;
    private volatile bool _measuring;
    private string? _firstError;

    public LoadRun(LoadOptions options, LoadHooks? hooks, CancellationToken aborted)
    {
        Options = options;
        Hooks = hooks ?? new LoadHooks();
        _remaining = options.Count;
        aborted.Register(() => _stop.Cancel());
        Started = Stopwatch.GetTimestamp();
    }

    public LoadOptions Options { get; }

    public LoadHooks Hooks { get; }

    public long Started { get; }

    public long MeasureStart { get; private set; }

    public long MeasureEnd { get; private set; }

    /// <summary>Cancelled when the run is over (duration, count, Ctrl+C).</summary>
    public CancellationToken Stopping => _stop.Token;

    public bool IsStopping => _stop.IsCancellationRequested;

    /// <summary>True during the measured phase: after the warm-up, before the stop.</summary>
    public bool Measuring => _measuring;

    public string? FirstError => Volatile.Read(ref _firstError);

    public IReadOnlyList<WorkerStats> Workers => _workers;

    public WorkerStats NewWorker()
    {
        var worker = new WorkerStats(this);
        lock (_workers)
        {
            _workers.Add(worker);
        }

        return worker;
    }

    public void NoteError(string message) => Interlocked.CompareExchange(ref _firstError, message, null);

    /// <summary>Whether another operation should start: false once stopped, or once the count is used up.</summary>
    public bool TryTakeOp()
    {
        if (_stop.IsCancellationRequested)
        {
            return false;
        }

        // The count is used up: no new operation starts; the run ends (and the measured phase with it) when the
        // operations in flight have finished.
        if (Options.Count > 0 && _measuring && Interlocked.Decrement(ref _remaining) < 0)
        {
            return false;
        }

        return true;
    }

    /// <summary>Runs the clock: warm-up, then the measured phase until the duration ends (or the count is used up, or the run is aborted).</summary>
    public async Task RunClockAsync(bool holdsForDuration = false)
    {
        try
        {
            if (Options.Warmup > TimeSpan.Zero)
            {
                await Task.Delay(Options.Warmup, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        StartMeasuring();
        if (Options.Count > 0 && !holdsForDuration)
        {
            return; // the last operation taken ends it
        }

        try
        {
            await Task.Delay(Options.Duration, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        StopMeasuring();
    }

    public void StartMeasuring()
    {
        MeasureStart = Stopwatch.GetTimestamp();
        Hooks.MeasureStarted?.Invoke();
        _measuring = true;
    }

    public void StopMeasuring()
    {
        lock (_stop)
        {
            if (MeasureEnd != 0)
            {
                return;
            }

            _measuring = false;
            MeasureEnd = Stopwatch.GetTimestamp();
            if (MeasureStart == 0)
            {
                MeasureStart = MeasureEnd;
            }
        }

        Hooks.MeasureEnded?.Invoke();
        _stop.Cancel();
    }

    /// <summary>Ends the run early (Ctrl+C, or a mode that finished its work).</summary>
    public void Abort() => StopMeasuring();

    public TimeSpan MeasuredTime => MeasureEnd == 0
        ? (MeasureStart == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(MeasureStart))
        : Stopwatch.GetElapsedTime(MeasureStart, MeasureEnd);

    /// <summary>
    /// Every 1/4 of the timeout (at most every 100 ms), fails the operations that have run longer than the timeout:
    /// one task for the whole run instead of a timer per operation.
    /// </summary>
    public async Task WatchdogAsync(CancellationToken done)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(Options.Timeout.TotalMilliseconds / 4, 10, 100));
        var limit = (long)(Options.Timeout.TotalSeconds * Stopwatch.Frequency);
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(done))
            {
                var now = Stopwatch.GetTimestamp();
                WorkerStats[] workers;
                lock (_workers)
                {
                    workers = [.. _workers];
                }

                foreach (var worker in workers)
                {
                    var started = Volatile.Read(ref worker.OpStarted);
                    if (started != 0 && now - started > limit)
                    {
                        worker.TimeOut();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>One worker's counters (one connection, or one UDP socket); written by that worker only.</summary>
internal sealed class WorkerStats(LoadRun run)
{
    public long Ops;

    /// <summary>Operations done during the warm-up, which count for nothing but the progress line.</summary>
    public long WarmupOps;
    public long Bytes;
    public long Errors;
    public long Mismatches;
    public long Lost;
    public long Late;

    /// <summary>When the operation in progress started (Stopwatch ticks); 0 when none is.</summary>
    public long OpStarted;

    public Histogram Latency { get; } = new();

    /// <summary>What the watchdog does to an operation that ran out of time: close its socket, or cancel it (UDP).</summary>
    public Socket? Socket;
    public CancellationTokenSource? Cancel;
    public volatile bool TimedOut;

    public void TimeOut()
    {
        TimedOut = true;
        Volatile.Write(ref OpStarted, 0);
        if (Cancel is { } cancel)
        {
            try
            {
                cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
        else
        {
            Socket?.Dispose();
        }
    }

    public void Begin() => Volatile.Write(ref OpStarted, Stopwatch.GetTimestamp());

    /// <summary>An operation completed: counted (with its latency since <paramref name="since"/>) when it ends in the measured phase.</summary>
    public void Done(long since, long bytes)
    {
        Volatile.Write(ref OpStarted, 0);
        if (run.Measuring)
        {
            Ops++;
            Bytes += bytes;
            Latency.RecordTicks(Stopwatch.GetTimestamp() - since);
        }
        else if (run.MeasureStart == 0)
        {
            WarmupOps++;
        }
    }

    public void Error(string message)
    {
        Volatile.Write(ref OpStarted, 0);
        Errors++;
        run.NoteError(message);
    }

    public void Mismatch(string message)
    {
        Volatile.Write(ref OpStarted, 0);
        Mismatches++;
        run.NoteError(message);
    }
}
