namespace EchoHost.Pipeline;

/// <summary>
/// The process-wide descriptor budget: counts every open client connection (TCP listeners and the HTTP endpoint) and
/// refuses new ones (reason <c>descriptors</c>) once they would leave fewer than the reserve of the open-file limit
/// free. Accept then never fails for lack of a descriptor: a refused connection is closed at once, and the reserve
/// covers it and everything else the process opens.
/// </summary>
/// <remarks>
/// Off (admits everything) until <see cref="Configure"/> gives it the limit, which hosting does once the listeners are
/// bound. What else is open is counted then and again at each refusal episode, so files the runtime opens later
/// (assemblies, the database) are not charged to clients for long.
/// </remarks>
internal sealed partial class DescriptorBudget(ILogger logger, Func<int>? openDescriptors = null) : IDisposable
{
    public const string Reason = "descriptors";

    /// <summary>How often what is open is counted again (a directory listing of <c>/proc/self/fd</c>).</summary>
    internal static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    private readonly Func<int> _openDescriptors = openDescriptors ?? CountOpenDescriptors;
    private readonly Lock _episode = new();
    private long _limit;
    private int _reserve;
    private int _capacity = int.MaxValue;
    private int _active;
    private volatile bool _refusing;
    private long _refused;
    private bool _atLimit;
    private ITimer? _timer;

    /// <summary>Open client connections now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>How many client connections may be open at once; <see cref="int.MaxValue"/> when not limited.</summary>
    public int Capacity => Volatile.Read(ref _capacity);

    /// <summary>
    /// Sets the open-file limit and the reserve; what is open now besides client connections is counted. A limit of 0
    /// or less turns the budget off.
    /// </summary>
    public void Configure(long limit, int reserve, TimeProvider? time = null)
    {
        lock (_episode)
        {
            (_limit, _reserve) = (limit, reserve);
            Recompute();
        }

        if (time is not null && Capacity != int.MaxValue)
        {
            _timer = time.CreateTimer(static state => ((DescriptorBudget)state!).Check(), this, CheckInterval, CheckInterval);
        }
    }

    /// <summary>
    /// Counts what is open again, so descriptors others took since (the database, files) are left to them; and says once
    /// when the process is at the open-file limit itself, where accept fails (Kestrel then retries until one frees; its
    /// failures never reach EchoHost), and once when it is not any more.
    /// </summary>
    internal void Check()
    {
        int open;
        lock (_episode)
        {
            open = _openDescriptors();
            Recompute(open);
        }

        if (_refusing && Active <= ResumeBelow)
        {
            EndEpisode();
        }

        var atLimit = _limit > 0 && open >= _limit - 1;
        if (atLimit && !_atLimit)
        {
            _atLimit = true;
            LogAtLimit(open, _limit);
        }
        else if (!atLimit && _atLimit && open <= _limit - Math.Max(1, _reserve / 2))
        {
            _atLimit = false;
            LogBelowLimit(open, _limit);
        }
    }

    /// <summary>Admits a connection and counts it, to be given back with <see cref="Release"/>; or the reason not.</summary>
    public bool TryAcquire(out string reason)
    {
        if (Interlocked.Increment(ref _active) <= Volatile.Read(ref _capacity))
        {
            reason = "";
            return true;
        }

        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _refused);
        reason = Reason;
        OnRefused();
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _active) <= ResumeBelow && _refusing)
        {
            EndEpisode();
        }
    }

    /// <summary>
    /// An episode ends once 5 % of the capacity is free again, not at the first free slot: a client that closes one
    /// connection and opens another at the limit would otherwise make a pair of log lines each time.
    /// </summary>
    private int ResumeBelow => Capacity - Math.Max(1, Capacity / 20);

    private void OnRefused()
    {
        lock (_episode)
        {
            if (_refusing)
            {
                return;
            }

            // Files opened since the last count may have gone: count again before calling it an episode.
            Recompute();
            if (Active < _capacity)
            {
                return;
            }

            _refusing = true;
            LogReached(Active, _limit, _limit - _reserve - _capacity, _reserve);
        }
    }

    private void EndEpisode()
    {
        lock (_episode)
        {
            if (_refusing && Active <= ResumeBelow)
            {
                _refusing = false;
                LogRecovered(Active, _capacity, Interlocked.Exchange(ref _refused, 0));
            }
        }
    }

    private void Recompute(int? open = null)
    {
        if (_limit <= 0 || _limit >= int.MaxValue)
        {
            Volatile.Write(ref _capacity, int.MaxValue);
            return;
        }

        var others = Math.Max(0, (open ?? _openDescriptors()) - Active);
        Volatile.Write(ref _capacity, (int)Math.Max(0, _limit - _reserve - others));
    }

    /// <summary>Descriptors open in this process (Linux); 0 where that cannot be read, which then counts none.</summary>
    internal static int CountOpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public void Dispose() => _timer?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Open-file limit reached: {Open} of {Limit} descriptors open; accepting connections fails until some close (raise the open-file limit or DescriptorReserve)")]
    private partial void LogAtLimit(int open, long limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Open-file limit no longer reached: {Open} of {Limit} descriptors open")]
    private partial void LogBelowLimit(int open, long limit);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Descriptor budget reached: {Active} client connections open under an open-file limit of {Limit} ({Others} other descriptors, {Reserve} kept in reserve); refusing new connections until some close (reason descriptors)")]
    private partial void LogReached(int active, long limit, long others, int reserve);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Descriptors back under budget: {Active} of {Capacity} client connections open; accepting new connections again ({Refused} not admitted meanwhile)")]
    private partial void LogRecovered(int active, int capacity, long refused);
}
