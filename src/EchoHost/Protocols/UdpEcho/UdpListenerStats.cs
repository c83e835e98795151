using System.Net.Sockets;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// One UDP listener's counters since start, updated lock-free by its receive loops and read at any time (the drop
/// summary in the logs). With the listener's metrics, these counts are its datagram and byte series (read when the
/// SDK collects) and each drop is counted by reason.
/// </summary>
internal sealed class UdpListenerStats
{
    private readonly ListenerMetrics? _metrics;
    private readonly UdpEchoMetrics? _instruments;
    private readonly long[] _dropped = new long[UdpDropReasons.All.Count];
    private long _datagramsReceived;
    private long _bytesReceived;
    private long _datagramsSent;
    private long _bytesSent;
    private long _socketErrors;
    private int _lastSocketError;

    public UdpListenerStats(ListenerMetrics? metrics = null)
    {
        _metrics = metrics;
        _instruments = metrics is null ? null : UdpEchoMetrics.Add(metrics, this);
    }

    /// <summary>Every datagram read from the socket, answered or dropped.</summary>
    public long DatagramsReceived => Volatile.Read(ref _datagramsReceived);

    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Replies sent; each is byte-identical to the datagram it answers.</summary>
    public long DatagramsSent => Volatile.Read(ref _datagramsSent);

    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Receives and sends that failed (an ICMP error from a vanished client, say); the loop carries on.</summary>
    public long SocketErrors => Volatile.Read(ref _socketErrors);

    public SocketError LastSocketError => (SocketError)Volatile.Read(ref _lastSocketError);

    public long Dropped(UdpDropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    public long DroppedTotal => UdpDropReasons.All.Sum(Dropped);

    internal void OnReceived(int bytes)
    {
        Interlocked.Increment(ref _datagramsReceived);
        Interlocked.Add(ref _bytesReceived, bytes);
    }

    internal void OnSent(int bytes)
    {
        Interlocked.Increment(ref _datagramsSent);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void OnDropped(UdpDropReason reason)
    {
        Interlocked.Increment(ref _dropped[(int)reason]);
        _instruments?.Dropped(_metrics!, reason);
    }

    internal void OnSocketError(SocketError error)
    {
        Volatile.Write(ref _lastSocketError, (int)error);
        Interlocked.Increment(ref _socketErrors);
    }
}
