namespace EchoHost.Transport;

/// <summary>
/// How much one connection may do on a thread before it goes to the back of the thread pool's queue: a handler that
/// runs on the socket engine's thread holds up every other connection of that thread while it runs, and a client that
/// always has more to send would hold it for ever (measured: with inline scheduling and no budget, one of 8 streaming
/// connections was echoed 309 MB in 5 s and another 4 MB). After <see cref="MaxReads"/> reads or
/// <see cref="MaxBytes"/> bytes the next read is handed over through the pool's global queue, behind the others.
/// A turn is long because each one costs: on this 2-core virtual machine a trip through an idle pool cost about
/// 240 µs of CPU (a worker woken, then spinning for more work), and with a turn of 16 reads a single ping-ponging
/// connection cost 48 µs per message against 33 µs with no turns at all (docs/performance.md, What was tried).
/// </summary>
internal struct SocketThreadBudget
{
    /// <summary>Reads handed to the handler on one turn.</summary>
    public const int MaxReads = 1024;

    /// <summary>Bytes handed to the handler on one turn: four times the transport's input buffer (Hosting/ResourceBudgets).</summary>
    public const long MaxBytes = 256 * 1024;

    private int _reads;
    private long _bytes;

    /// <summary>Counts one read of <paramref name="bytes"/>; true when the turn is used up (and a new one begins).</summary>
    public bool Spend(long bytes)
    {
        _bytes += bytes;
        if (++_reads < MaxReads && _bytes < MaxBytes)
        {
            return false;
        }

        _reads = 0;
        _bytes = 0;
        return true;
    }
}
