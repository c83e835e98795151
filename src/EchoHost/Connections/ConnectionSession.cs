using System.Diagnostics;
using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Connections;

/// <summary>
/// What EchoHost knows about one open TCP connection: counters, activity and the one close signal handlers watch.
/// It replaces Kestrel's <see cref="IConnectionLifetimeNotificationFeature"/> on the connection, so a handler that
/// links its reads to <c>ConnectionClosedRequested</c> stops on server shutdown and on idle timeout alike.
/// </summary>
internal sealed class ConnectionSession : IConnectionLifetimeNotificationFeature
{
    /// <summary>How long a handler gets to finish after a close was requested before the socket is aborted.</summary>
    internal static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _closing = new();
    private long _bytesIn;
    private long _bytesOut;
    private long _lastActivityMs;
    private long _closeRequestedAtMs;
    private int _closeReason = -1;
    private int _aborted;
    private bool _inputCompleted;
    private string? _nick;
    private string? _room;

    public ConnectionSession(string connectionId, ListenerDefinition listener, IPEndPoint? remoteEndPoint)
    {
        ConnectionId = connectionId;
        Listener = listener;
        RemoteEndPoint = remoteEndPoint;
        ConnectedAt = DateTimeOffset.UtcNow;
        StartTimestamp = Stopwatch.GetTimestamp();
        _lastActivityMs = Environment.TickCount64;
        ConnectionClosedRequested = _closing.Token;
    }

    public string ConnectionId { get; }

    public ListenerDefinition Listener { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    public DateTimeOffset ConnectedAt { get; }

    public long StartTimestamp { get; }

    /// <summary>The chat nick, set by the chat handler once the user has one; shown by <c>GET /connections</c>.</summary>
    public string? Nick
    {
        get => Volatile.Read(ref _nick);
        set => Volatile.Write(ref _nick, value);
    }

    /// <summary>The chat room the user is in, set by the chat handler; shown by <c>GET /connections</c>.</summary>
    public string? Room
    {
        get => Volatile.Read(ref _room);
        set => Volatile.Write(ref _room, value);
    }

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public TimeSpan Duration => Stopwatch.GetElapsedTime(StartTimestamp);

    /// <summary>The reason of the first close request, or null while nobody asked the connection to close.</summary>
    public CloseReason? CloseRequestReason => Volatile.Read(ref _closeReason) is var r and >= 0 ? (CloseReason)r : null;

    /// <summary>True once the client finished sending (FIN); what the handler saw as the end of input.</summary>
    public bool InputCompleted => Volatile.Read(ref _inputCompleted);

    public CancellationToken ConnectionClosedRequested { get; set; }

    public void AddBytesIn(long count)
    {
        Interlocked.Add(ref _bytesIn, count);
        Volatile.Write(ref _lastActivityMs, Environment.TickCount64);
    }

    public void AddBytesOut(long count)
    {
        Interlocked.Add(ref _bytesOut, count);
        Volatile.Write(ref _lastActivityMs, Environment.TickCount64);
    }

    public void MarkInputCompleted() => Volatile.Write(ref _inputCompleted, true);

    void IConnectionLifetimeNotificationFeature.RequestClose() => RequestClose(CloseReason.Requested);

    /// <summary>Asks the handler to finish; the first reason wins. Returns false when a close was already requested.</summary>
    public bool RequestClose(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, -1) != -1)
        {
            return false;
        }

        Volatile.Write(ref _closeRequestedAtMs, Environment.TickCount64);
        _closing.Cancel();
        return true;
    }

    /// <summary>
    /// Called about once a second by Kestrel's heartbeat: requests a close when the connection moved no byte for the
    /// idle timeout, and aborts the socket when a requested close was not honoured within <see cref="CloseGrace"/>
    /// (a peer that never reads can hold a flush, or the transport's final send, forever).
    /// </summary>
    public HeartbeatAction OnHeartbeat(long nowMs)
    {
        if (Volatile.Read(ref _aborted) == 1)
        {
            return HeartbeatAction.None;
        }

        if (CloseRequestReason is null)
        {
            var idleTimeout = Listener.IdleTimeout;
            var idleFor = nowMs - Volatile.Read(ref _lastActivityMs);
            return idleTimeout > TimeSpan.Zero && idleFor >= (long)idleTimeout.TotalMilliseconds && RequestClose(CloseReason.IdleTimeout)
                ? HeartbeatAction.IdleTimedOut
                : HeartbeatAction.None;
        }

        if (nowMs - Volatile.Read(ref _closeRequestedAtMs) >= (long)CloseGrace.TotalMilliseconds
            && Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            return HeartbeatAction.Abort;
        }

        return HeartbeatAction.None;
    }
}

internal enum HeartbeatAction
{
    None,
    IdleTimedOut,
    Abort,
}
