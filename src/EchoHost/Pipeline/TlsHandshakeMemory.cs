namespace EchoHost.Pipeline;

/// <summary>
/// The TLS handshakes in progress on every listener, and the native memory they may hold, which the GC does not see:
/// the memory budget counts it beside the heap. A client that stalls mid-ClientHello keeps what it sent (up to the
/// ~128 KiB a ClientHello may be) buffered by the TLS stack until the handshake timeout.
/// </summary>
internal sealed class TlsHandshakeMemory
{
    /// <summary>What one stalled handshake was measured to hold: 100 of 131,000-byte ClientHellos added 29 MiB of RSS.</summary>
    public const long BytesPerHandshake = 290 * 1024;

    private long _inProgress;

    public long InProgress => Interlocked.Read(ref _inProgress);

    /// <summary>The most the handshakes in progress may hold now.</summary>
    public long Bytes => InProgress * BytesPerHandshake;

    public void Started() => Interlocked.Increment(ref _inProgress);

    public void Ended() => Interlocked.Decrement(ref _inProgress);
}
