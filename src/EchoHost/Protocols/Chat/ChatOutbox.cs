using System.Threading.Channels;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Everything waiting to be sent to one user, and the single loop that writes it: many senders enqueue, only this
/// loop touches the connection's PipeWriter. Enqueueing never blocks. When more than <c>maxQueuedBytes</c> wait, the
/// user is a slow reader: the outbox stops accepting and raises <see cref="Overflowed"/>.
/// </summary>
internal sealed class ChatOutbox(int maxQueuedBytes) : IChatOutbox
{
    private readonly Channel<byte[]> _lines = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private long _queuedBytes;
    private long _highWater;
    private int _overflowed;

    /// <summary>Raised once, on the thread pool, when the queue first overflows.</summary>
    public event Action? Overflowed;

    public bool HasOverflowed => Volatile.Read(ref _overflowed) == 1;

    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>The most bytes ever waiting at once: never above the limit plus one line.</summary>
    public long HighWaterBytes => Interlocked.Read(ref _highWater);

    public bool TryEnqueue(byte[] line)
    {
        if (HasOverflowed)
        {
            return false;
        }

        var queued = Interlocked.Add(ref _queuedBytes, line.Length);
        if (queued > maxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -line.Length);
            if (Interlocked.Exchange(ref _overflowed, 1) == 0)
            {
                // Callers hold the chat server's lock; whoever handles the overflow must not run under it.
                ThreadPool.UnsafeQueueUserWorkItem(static outbox => outbox.Overflowed?.Invoke(), this, preferLocal: false);
            }

            return false;
        }

        UpdateHighWater(queued);
        return _lines.Writer.TryWrite(line);
    }

    /// <summary>
    /// No more lines: the writer loop ends once it has sent what is queued, and then <paramref name="lastLine"/> if
    /// given, which is queued whatever the limit (the notice that tells a slow reader why it is being cut).
    /// </summary>
    public void Complete(byte[]? lastLine = null)
    {
        if (lastLine is not null)
        {
            Interlocked.Add(ref _queuedBytes, lastLine.Length);
            _lines.Writer.TryWrite(lastLine);
        }

        _lines.Writer.TryComplete();
    }

    /// <summary>
    /// The connection's only writer. Ends when completed and drained, when the peer is gone (the connection's
    /// close grace aborts a peer that never reads, which completes the pending flush), or on cancel.
    /// </summary>
    public async Task RunWriterAsync(PipeWriter output, CancellationToken cancellationToken = default)
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var line))
            {
                output.Write(line);
                Interlocked.Add(ref _queuedBytes, -line.Length);
            }

            var flush = await output.FlushAsync(cancellationToken);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
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
