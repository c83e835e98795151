using System.Runtime.CompilerServices;
using EchoHost.Logging;
using EchoHost.Telemetry;

namespace EchoHost.Pipeline;

/// <summary>
/// Wraps a connection's transport to count bytes in each direction and record activity for the idle timeout,
/// so no protocol handler has to; the listener's byte counters move with them. At Verbose it logs what was
/// received, truncated and escaped.
/// </summary>
internal sealed class CountingDuplexPipe(IDuplexPipe inner, ConnectionSession session, ILogger logger, ListenerMetrics? metrics = null) : IDuplexPipe
{
    public PipeReader Input { get; } = new CountingPipeReader(inner.Input, session, logger, metrics);

    public PipeWriter Output { get; } = new CountingPipeWriter(inner.Output, session, metrics);

    private sealed class CountingPipeReader(PipeReader inner, ConnectionSession session, ILogger logger, ListenerMetrics? metrics) : PipeReader
    {
        private ReadOnlySequence<byte> _lastBuffer;

        // Bytes the handler left unconsumed at its last AdvanceTo: they come back in the next read and are not new.
        private long _unconsumed;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var pending = inner.ReadAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                OnRead(result);
                return new ValueTask<ReadResult>(result);
            }

            return AwaitRead(pending);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> pending)
        {
            var result = await pending.ConfigureAwait(false);
            OnRead(result);
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }

            OnRead(result);
            return true;
        }

        private void OnRead(in ReadResult result)
        {
            var buffer = result.Buffer;
            _lastBuffer = buffer;
            var fresh = buffer.Length - _unconsumed;
            if (fresh > 0)
            {
                session.AddBytesIn(fresh);
                metrics?.BytesReceived(fresh);
                if (logger.IsEnabled(LogLevel.Trace))
                {
                    logger.LogTrace("received {Payload}", PayloadFormatter.Format(buffer.Slice(_unconsumed)));
                }
            }

            if (result.IsCompleted)
            {
                session.MarkInputCompleted();
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _unconsumed = consumed.Equals(_lastBuffer.End) ? 0 : _lastBuffer.Slice(consumed).Length;
            _lastBuffer = default;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }

    private sealed class CountingPipeWriter(PipeWriter inner, ConnectionSession session, ListenerMetrics? metrics) : PipeWriter
    {
        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            if (bytes > 0)
            {
                session.AddBytesOut(bytes);
                metrics?.BytesSent(bytes);
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            Observe(inner.FlushAsync(cancellationToken));

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            if (!source.IsEmpty)
            {
                session.AddBytesOut(source.Length);
                metrics?.BytesSent(source.Length);
            }

            return Observe(inner.WriteAsync(source, cancellationToken));
        }

        private ValueTask<FlushResult> Observe(ValueTask<FlushResult> pending)
        {
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                OnFlushed(result);
                return new ValueTask<FlushResult>(result);
            }

            return AwaitFlush(pending);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<FlushResult> AwaitFlush(ValueTask<FlushResult> pending)
        {
            var result = await pending.ConfigureAwait(false);
            OnFlushed(result);
            return result;
        }

        /// <summary>
        /// The transport stopped taking what we write only when the peer went away under us (a reset): nothing else
        /// completes it while the handler still writes. Otherwise the disconnect line would say "closed by server".
        /// </summary>
        private void OnFlushed(in FlushResult result)
        {
            if (result.IsCompleted)
            {
                session.MarkReset();
            }
        }

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
