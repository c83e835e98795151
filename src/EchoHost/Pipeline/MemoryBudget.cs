using System.Diagnostics.Metrics;

namespace EchoHost.Pipeline;

/// <summary>
/// The process-wide memory budget: while the GC heap holds more than <see cref="BudgetBytes"/>, new connections are
/// refused (reason <c>memory</c>), so clients can never push the process to the runtime's own limit, where it fails
/// with "Out of memory" instead of refusing. Connections already open keep going, unless memory is still over the
/// budget a confirmation later: then those whose clients do not read are cut as slow readers. The heap is sampled on a
/// timer, never per accept; one log line when an episode starts and one when it ends.
/// </summary>
/// <remarks>
/// The reading counts garbage until a collection, so a reading over the budget is confirmed by a full collection (at
/// most one per <see cref="ConfirmInterval"/>) before anyone is refused, and while refusing, each confirmation may end
/// the episode. What counts is the larger of the heap in use and the memory the GC has committed (the heap hard limit
/// applies to commits, and a heap of pinned blocks commits more than it uses), less the free blocks in Kestrel's memory
/// pools: those serve new connections without new memory, and the pools give them back to the GC only slowly (a few
/// percent every 10 s), so memory that clients who left gave back does not keep everyone else out.
/// </remarks>
internal sealed partial class MemoryBudget : IDisposable
{
    public const string Reason = "memory";

    internal static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(250);
    internal static readonly TimeSpan ConfirmInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a connection's output must have waited for its client to read before it may be cut for memory.</summary>
    internal static readonly TimeSpan CutBlockedAfter = TimeSpan.FromSeconds(1);

    private readonly Func<bool, long> _heapBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer? _timer;
    private readonly Lock _sampling = new();
    private long? _lastConfirm;
    private volatile bool _over;
    private long _refused;
    private long _pooledBytes;
    private readonly MeterListener? _pools;
    private readonly Func<IEnumerable<ConnectionSession>> _openConnections;
    private readonly Func<long> _outsideHeapBytes;

    /// <param name="budgetBytes">0 turns the budget off.</param>
    /// <param name="heapBytes">
    /// What counts against the budget; with true, after a full collection. Null: the GC's figures less the free blocks
    /// of Kestrel's memory pools.
    /// </param>
    /// <param name="openConnections">The open TCP connections, to cut those that do not read while over the budget.</param>
    /// <param name="outsideHeapBytes">Memory the GC does not see that counts too: what TLS handshakes in progress hold.</param>
    public MemoryBudget(long budgetBytes, TimeProvider time, ILogger logger, Func<bool, long>? heapBytes = null,
        Func<IEnumerable<ConnectionSession>>? openConnections = null, Func<long>? outsideHeapBytes = null)
    {
        BudgetBytes = budgetBytes;
        _openConnections = openConnections ?? (() => []);
        _outsideHeapBytes = outsideHeapBytes ?? (() => 0);
        (_time, _logger) = (time, logger);
        _heapBytes = heapBytes ?? (collect => HeapBytes(collect) - PooledBytes);
        if (budgetBytes > 0)
        {
            _pools = heapBytes is null ? ListenToPools() : null;
            _timer = time.CreateTimer(static state => ((MemoryBudget)state!).Sample(), this, SampleInterval, SampleInterval);
        }
    }

    /// <summary>Free bytes in Kestrel's memory pools, from their <c>aspnetcore.memory_pool.pooled</c> measurements.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    private MeterListener ListenToPools()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument is { Name: "aspnetcore.memory_pool.pooled", Meter.Name: "Microsoft.AspNetCore.MemoryPool" })
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (_, bytes, _, state) => Interlocked.Add(ref ((MemoryBudget)state!)._pooledBytes, bytes));
        listener.Start();
        return listener;
    }

    public long BudgetBytes { get; }

    /// <summary>What counts beside the heap now: the native memory of TLS handshakes in progress.</summary>
    public long OutsideHeapBytes => _outsideHeapBytes();

    /// <summary>An episode ends once the heap is 5 % under the budget, so a heap hovering at it logs no pair of lines each second.</summary>
    private long ResumeBelow => BudgetBytes - BudgetBytes / 20;

    /// <summary>True while new connections are refused.</summary>
    public bool Exceeded => _over;

    /// <summary>The memory the GC may use: its heap hard limit (in a container, 75 % of its memory limit) or the machine's memory.</summary>
    public static long AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Whether a new connection may be admitted; otherwise the reason, as the <c>reason</c> tag names it.</summary>
    public bool TryAdmit(out string reason)
    {
        if (!_over)
        {
            reason = "";
            return true;
        }

        Interlocked.Increment(ref _refused);
        reason = Reason;
        return false;
    }

    /// <summary>One reading; the timer calls it every <see cref="SampleInterval"/>.</summary>
    internal void Sample()
    {
        // A slow collection must not let the next tick run beside this one.
        if (!_sampling.TryEnter())
        {
            return;
        }

        try
        {
            // While refusing, the episode ends under ResumeBelow; otherwise it starts at the budget.
            var threshold = _over ? ResumeBelow : BudgetBytes;
            var used = _heapBytes(false) + _outsideHeapBytes();
            if (used >= threshold)
            {
                // That reading counts garbage: confirm it with a full collection, at most once per interval.
                if (_lastConfirm is { } last && _time.GetElapsedTime(last) < ConfirmInterval)
                {
                    return;
                }

                _lastConfirm = _time.GetTimestamp();
                used = _heapBytes(true) + _outsideHeapBytes();
            }

            if (used >= BudgetBytes && !_over)
            {
                _over = true;
                LogReached(used >> 20, PooledBytes >> 20, BudgetBytes >> 20);
            }
            else if (used >= BudgetBytes)
            {
                // Still over a confirmation later, though no connection was admitted: the ones already open grow.
                CutBlockedConnections(used);
            }
            else if (used < ResumeBelow && _over)
            {
                _over = false;
                LogRecovered(used >> 20, PooledBytes >> 20, BudgetBytes >> 20, Interlocked.Exchange(ref _refused, 0));
            }
        }
        finally
        {
            _sampling.Exit();
        }
    }

    /// <summary>
    /// Asks every connection whose output has waited for its client to read for <see cref="CutBlockedAfter"/> to close,
    /// as a slow reader: what it holds (its buffers, full) is what does not come back while it stays. Connections that
    /// read keep going.
    /// </summary>
    private void CutBlockedConnections(long used)
    {
        var now = Environment.TickCount64;
        var cut = 0;
        foreach (var session in _openConnections())
        {
            if (session.OutputBlockedSinceMs is var since and > 0 && now - since >= (long)CutBlockedAfter.TotalMilliseconds
                && session.RequestClose(CloseReason.SlowReader))
            {
                cut++;
            }
        }

        if (cut > 0)
        {
            LogCut(used >> 20, BudgetBytes >> 20, cut, CutBlockedAfter.TotalSeconds);
        }
    }

    private static long HeapBytes(bool collect)
    {
        if (collect)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        }

        return Math.Max(GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _pools?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Memory budget reached: {UsedMiB} MiB of GC heap in use (besides {PooledMiB} MiB free in memory pools), budget {BudgetMiB} MiB; refusing new connections until it falls below (reason memory)")]
    private partial void LogReached(long usedMiB, long pooledMiB, long budgetMiB);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Memory budget still exceeded by open connections: {UsedMiB} MiB of GC heap in use, budget {BudgetMiB} MiB; closing {Count} whose clients have not read for {Seconds} s (slow reader)")]
    private partial void LogCut(long usedMiB, long budgetMiB, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Memory back under budget: {UsedMiB} MiB of GC heap in use (besides {PooledMiB} MiB free in memory pools), budget {BudgetMiB} MiB; accepting new connections again ({Refused} not admitted meanwhile)")]
    private partial void LogRecovered(long usedMiB, long pooledMiB, long budgetMiB, long refused);
}
