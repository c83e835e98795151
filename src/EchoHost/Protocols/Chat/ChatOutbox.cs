using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Everything waiting to be sent to one user, and the one place that writes the connection's PipeWriter: many
/// senders enqueue, one writer at a time writes. Enqueueing never blocks. When more than <c>maxQueuedBytes</c> wait,
/// the user is a slow reader: the outbox stops accepting and raises <see cref="Overflowed"/>.
/// <para>
/// A line for a user whose connection is keeping up — nothing queued, no flush pending — is written and flushed by
/// the sender at once, on its own thread: no hand-over to a writer task, whose thread-pool hop per recipient was the
/// largest part of a delivery's cost in a 500-user room (docs/performance.md, What was tried). Only when a flush
/// does not complete at once (the client reads slower than the room talks) does a drain take over: it waits for the
/// flush, then writes everything that queued meanwhile in one go, and hands back once the queue is empty.
/// </para>
/// </summary>
internal sealed class ChatOutbox(int maxQueuedBytes) : IChatOutbox
{
    private readonly Lock _lock = new();
    private readonly Queue<byte[]> _queue = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PipeWriter? _output;
    private CancellationToken _cancellation;

    // A flush is pending and the drain owns the writer; senders only queue.
    private bool _draining;
    private bool _completed;
    // Lines queue but are not written until Release or Complete.
    private bool _held;
    private long _queuedBytes;
    private long _highWater;
    private int _overflowed;
    private long _queuedAtOverflow;
    private int _refusedAtOverflow;

    /// <summary>Raised once, on the thread pool, when the queue first overflows.</summary>
    public event Action? Overflowed;

    public bool HasOverflowed => Volatile.Read(ref _overflowed) == 1;

    /// <summary>Bytes accepted and not yet handed to the connection.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>The most bytes ever waiting at once: never above the limit plus one line.</summary>
    public long HighWaterBytes => Interlocked.Read(ref _highWater);

    /// <summary>What waited when the queue overflowed: the bytes queued, and the line that did not fit.</summary>
    public (long QueuedBytes, int RefusedLineBytes) AtOverflow => (Interlocked.Read(ref _queuedAtOverflow), Volatile.Read(ref _refusedAtOverflow));

    public bool TryEnqueue(byte[] line) => TryEnqueue(line, maxQueuedBytes, overflow: true);

    /// <summary>
    /// Queues the line only if at most <paramref name="limit"/> bytes then wait; otherwise refuses it and the user
    /// stays: what others send on their own initiative must not be able to fill the queue and get the user cut.
    /// </summary>
    public bool TryEnqueueWithin(byte[] line, long limit) => TryEnqueue(line, Math.Min(limit, maxQueuedBytes), overflow: false);

    private bool TryEnqueue(byte[] line, long limit, bool overflow)
    {
        if (HasOverflowed)
        {
            return false;
        }

        var queued = Interlocked.Add(ref _queuedBytes, line.Length);
        if (queued > limit)
        {
            Interlocked.Add(ref _queuedBytes, -line.Length);
            if (overflow && Interlocked.Exchange(ref _overflowed, 1) == 0)
            {
                Interlocked.Exchange(ref _queuedAtOverflow, queued - line.Length);
                Volatile.Write(ref _refusedAtOverflow, line.Length);
                // Callers hold the chat server's lock; whoever handles the overflow must not run under it.
                ThreadPool.UnsafeQueueUserWorkItem(static outbox => outbox.Overflowed?.Invoke(), this, preferLocal: false);
            }

            return false;
        }

        UpdateHighWater(queued);
        lock (_lock)
        {
            if (_completed)
            {
                Interlocked.Add(ref _queuedBytes, -line.Length);
                return false;
            }

            _queue.Enqueue(line);
            if (_output is not null && !_draining)
            {
                WriteQueued();
            }
        }

        return true;
    }

    /// <summary>
    /// Lines are queued but not written until <see cref="Release"/> or <see cref="Complete"/>: what belongs together (a
    /// goodbye and the end marker after it) leaves in one write, so a client that reads one chunk sees all of it.
    /// </summary>
    public void Hold()
    {
        lock (_lock)
        {
            _held = true;
        }
    }

    /// <summary>Writes what <see cref="Hold"/> kept, and every line as it comes again.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _held = false;
            if (_output is not null && !_draining)
            {
                WriteQueued();
            }
        }
    }

    /// <summary>
    /// No more lines: the writing ends once what is queued has been sent, and then <paramref name="lastLine"/> if
    /// given, which is queued whatever the limit (the notice that tells a slow reader why it is being cut).
    /// </summary>
    public void Complete(byte[]? lastLine = null)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _held = false;
            if (lastLine is not null)
            {
                Interlocked.Add(ref _queuedBytes, lastLine.Length);
                _queue.Enqueue(lastLine);
            }

            if (_output is not null && !_draining)
            {
                WriteQueued();
            }
        }
    }

    /// <summary>
    /// Starts writing to the connection: what is queued now, then every line as it comes. The task ends once the
    /// outbox is completed and everything in it was handed to the connection, or when the peer is gone (the
    /// connection's close grace aborts a peer that never reads, which completes the pending flush), or on cancel.
    /// </summary>
    public Task RunWriterAsync(PipeWriter output, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _output = output;
            _cancellation = cancellationToken;
            WriteQueued();
        }

        return _ended.Task;
    }

    /// <summary>Under the lock, with no flush pending: writes the queue and flushes; a flush that waits starts the drain.</summary>
    private void WriteQueued()
    {
        if (_held)
        {
            return;
        }

        try
        {
            while (_queue.Count > 0)
            {
                if (!WriteAll(_queue, _output!))
                {
                    return;
                }

                var flush = _output!.FlushAsync(_cancellation);
                if (!flush.IsCompletedSuccessfully)
                {
                    _draining = true;
                    _ = DrainAsync(flush);
                    return;
                }

                if (IsEnd(flush.Result))
                {
                    return;
                }
            }

            if (_completed)
            {
                End();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            End();
        }
    }

    /// <summary>Waits for the pending flush off the senders' threads, then writes what queued meanwhile.</summary>
    private async Task DrainAsync(ValueTask<FlushResult> pending)
    {
        try
        {
            if (IsEnd(await pending.ConfigureAwait(false)))
            {
                return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            lock (_lock)
            {
                End();
            }

            return;
        }

        lock (_lock)
        {
            _draining = false;
            WriteQueued();
        }
    }

    private bool WriteAll(Queue<byte[]> queue, PipeWriter output)
    {
        if (_ended.Task.IsCompleted)
        {
            return false;
        }

        while (queue.TryDequeue(out var line))
        {
            output.Write(line);
            Interlocked.Add(ref _queuedBytes, -line.Length);
        }

        return true;
    }

    /// <summary>The peer is gone (or the write was cancelled): nothing more will be written.</summary>
    private bool IsEnd(FlushResult result)
    {
        if (!result.IsCompleted && !result.IsCanceled)
        {
            return false;
        }

        lock (_lock)
        {
            End();
        }

        return true;
    }

    private void End()
    {
        _completed = true;
        _draining = false;
        while (_queue.TryDequeue(out var line))
        {
            Interlocked.Add(ref _queuedBytes, -line.Length);
        }

        _ended.TrySetResult();
    }

    private void UpdateHighWater(long queued)
    {
        var seen = Interlocked.Read(ref _highWater);
        while (queued > seen)
        {
            var previous = Interlocked.CompareExchange(ref _highWater, queued, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
