using System.Diagnostics;
using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// What EchoHost knows about one open TCP connection: counters, activity, details for <c>/connections</c>, and the one
/// close signal handlers watch. It replaces Kestrel's <see cref="IConnectionLifetimeNotificationFeature"/> on the
/// connection, so a handler that links its reads to <c>ConnectionClosedRequested</c> stops on server shutdown, idle
/// timeout and any other close request alike.
/// </summary>
internal sealed class ConnectionSession : IConnectionLifetimeNotificationFeature, IConnectionCloseFeature, IConnectionDetailsFeature
{
    /// <summary>How long a handler gets to finish after a close was requested before the socket is aborted.</summary>
    internal static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _detailsLock = new();
    private long _bytesIn;
    private long _bytesOut;
    private long _lastActivityMs;
    private long _outputBlockedSinceMs;
    private int _closeReason = -1;
    private bool _inputCompleted;
    private bool _reset;
    private bool _tlsError;
    private KeyValuePair<string, string>[] _details = [];
    private ICloseRequestWatcher? _watcher;

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

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public TimeSpan Duration => Stopwatch.GetElapsedTime(StartTimestamp);

    /// <summary>What a protocol set through <see cref="IConnectionDetailsFeature"/>, in the order first set.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Details => Volatile.Read(ref _details);

    public CloseReason? CloseRequestReason => Volatile.Read(ref _closeReason) is var r and >= 0 ? (CloseReason)r : null;

    /// <summary>True once the client finished sending (FIN); what the handler saw as the end of input.</summary>
    public bool InputCompleted => Volatile.Read(ref _inputCompleted);

    /// <summary>Why the connection ended, for the disconnect line: the close request, else what the client did.</summary>
    public CloseReason EndReason => CloseRequestReason
        ?? (Volatile.Read(ref _tlsError) ? CloseReason.TlsError
            : Volatile.Read(ref _reset) ? CloseReason.ClientReset : InputCompleted ? CloseReason.ClientClosed : CloseReason.ServerClosed);

    public CancellationToken ConnectionClosedRequested { get; set; }

    /// <summary>When (<see cref="Environment.TickCount64"/>, in ms) the last byte moved in either direction.</summary>
    public long LastActivityMs => Volatile.Read(ref _lastActivityMs);

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

    /// <summary>
    /// Called on the close request, after the token: the close grace watches this way rather than by a registration on
    /// the token (80 bytes more per connection). Like a registration, a watcher that comes after the request is called
    /// at once; it may be called twice when the two race, so it must be idempotent.
    /// </summary>
    public void WatchCloseRequest(ICloseRequestWatcher watcher)
    {
        Volatile.Write(ref _watcher, watcher);
        if (CloseRequestReason is not null)
        {
            watcher.OnCloseRequested();
        }
    }

    /// <summary>
    /// Since when (<see cref="Environment.TickCount64"/>, in ms) a flush has been waiting for the client to read; 0 when
    /// none is. What such a connection has written is held until it reads.
    /// </summary>
    public long OutputBlockedSinceMs => Volatile.Read(ref _outputBlockedSinceMs);

    public void MarkOutputBlocked() => Volatile.Write(ref _outputBlockedSinceMs, Environment.TickCount64);

    public void MarkOutputFlowing() => Volatile.Write(ref _outputBlockedSinceMs, 0);

    public void MarkInputCompleted() => Volatile.Write(ref _inputCompleted, true);

    /// <summary>The transport failed because the peer reset the connection.</summary>
    public void MarkReset() => Volatile.Write(ref _reset, true);

    /// <summary>The TLS layer failed (a protocol error, a refused renegotiation) while the transport was fine.</summary>
    public void MarkTlsError() => Volatile.Write(ref _tlsError, true);

    void IConnectionLifetimeNotificationFeature.RequestClose() => RequestClose(CloseReason.Requested);

    public bool RequestClose(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, -1) != -1)
        {
            return false;
        }

        _closing.Cancel();
        Volatile.Read(ref _watcher)?.OnCloseRequested();
        return true;
    }

    public void SetDetail(string name, string? value)
    {
        // Copy-on-write: /connections reads without a lock.
        lock (_detailsLock)
        {
            var details = _details.Where(d => d.Key != name);
            Volatile.Write(ref _details, value is null ? details.ToArray() : [.. details, KeyValuePair.Create(name, value)]);
        }
    }
}

/// <summary>Told when a close is requested on a <see cref="ConnectionSession"/>; see <see cref="ConnectionSession.WatchCloseRequest"/>.</summary>
internal interface ICloseRequestWatcher
{
    void OnCloseRequested();
}
