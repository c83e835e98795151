using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using EchoHost.Logging;
using EchoHost.Telemetry;
using EchoHost.Transport;

namespace EchoHost.Pipeline;

/// <summary>
/// Wraps a connection's transport to count bytes in each direction and record activity for the idle timeout,
/// so no protocol handler has to; the listener's byte counters move with them. At Verbose it logs what was
/// received, truncated and escaped. On a connection whose handler runs on the socket engine's thread, it also keeps
/// the handler's turns short (<see cref="SocketThreadBudget"/>).
/// </summary>
internal sealed class CountingDuplexPipe(IDuplexPipe inner, ConnectionSession session, ILogger logger, ListenerMetrics? metrics = null, bool budgeted = false) : IDuplexPipe
{
    public PipeReader Input { get; } = new CountingPipeReader(inner.Input, session, logger, metrics, budgeted);

    public PipeWriter Output { get; } = new CountingPipeWriter(inner.Output, session, metrics);

    /// <summary>
    /// Counts what each read brings. A read that has to wait is awaited without an async frame: the reader is its own
    /// <see cref="IValueTaskSource{TResult}"/> (a <see cref="PipeReader"/> has one read at a time), so an idle
    /// connection's pending read costs no state-machine box (256 bytes each, see docs/performance.md, What was tried).
    /// With a budget, a read that ends the handler's turn is handed over through the thread pool's global queue
    /// instead of straight to the handler: it then runs behind every connection that was waiting.
    /// </summary>
    private sealed class CountingPipeReader : PipeReader, IValueTaskSource<ReadResult>, IThreadPoolWorkItem
    {
        private readonly PipeReader _inner;
        private readonly ConnectionSession _session;
        private readonly ILogger _logger;
        private readonly ListenerMetrics? _metrics;
        private readonly Action _onInnerRead;
        private ManualResetValueTaskSourceCore<ReadResult> _read;
        private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pending;
        private ReadOnlySequence<byte> _lastBuffer;
        private readonly bool _budgeted;
        private SocketThreadBudget _budget;
        private ReadResult _deferred;

        // A deferred read's hand-over: 1 once the handler waits for the read, 2 once its result is ready; whichever
        // comes second queues it. Queued before the handler waits, the pool could complete the read first and the
        // handler would go on where it was, on the socket engine's thread.
        private int _handoff;

        // Bytes the handler left unconsumed at its last AdvanceTo: they come back in the next read and are not new.
        private long _unconsumed;

        public CountingPipeReader(PipeReader inner, ConnectionSession session, ILogger logger, ListenerMetrics? metrics, bool budgeted)
        {
            (_inner, _session, _logger, _metrics, _budgeted) = (inner, session, logger, metrics, budgeted);
            _onInnerRead = OnInnerRead;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var pending = _inner.ReadAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                if (TurnEnds(result))
                {
                    _read.Reset();
                    _handoff = 0;
                    Defer(result);
                    return new ValueTask<ReadResult>(this, _read.Version);
                }

                OnRead(result);
                return new ValueTask<ReadResult>(result);
            }

            // Ready before the continuation is registered: it may run at once, on this thread.
            _read.Reset();
            _handoff = 0;
            _pending = pending.ConfigureAwait(false).GetAwaiter();
            _pending.UnsafeOnCompleted(_onInnerRead);
            return new ValueTask<ReadResult>(this, _read.Version);
        }

        private void OnInnerRead()
        {
            var pending = _pending;
            _pending = default;
            ReadResult result;
            try
            {
                result = pending.GetResult();
            }
            catch (Exception ex)
            {
                _read.SetException(ex);
                return;
            }

            if (TurnEnds(result))
            {
                Defer(result);
                return;
            }

            _read.SetResult(result);
        }

        /// <summary>Whether this read ends the handler's turn; counted only on a budgeted connection.</summary>
        private bool TurnEnds(in ReadResult result) => _budgeted && _budget.Spend(result.Buffer.Length - _unconsumed);

        /// <summary>Hands the read to the handler from the thread pool's global queue, behind whatever waits there.</summary>
        private void Defer(in ReadResult result)
        {
            _deferred = result;
            if (Interlocked.Or(ref _handoff, 2) == 1)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        void IThreadPoolWorkItem.Execute()
        {
            var result = _deferred;
            _deferred = default;
            _read.SetResult(result);
        }

        // Counted when the handler takes the result, in its own execution context: the connection's logging scope
        // is there for the Verbose payload line (the inner pipe's callback runs without it).
        ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
        {
            var result = _read.GetResult(token);
            OnRead(result);
            return result;
        }

        ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _read.GetStatus(token);

        void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _read.OnCompleted(continuation, state, token, flags);
            if (Interlocked.Or(ref _handoff, 1) == 2)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!_inner.TryRead(out result))
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
                _session.AddBytesIn(fresh);
                _metrics?.BytesReceived(fresh);
                if (_logger.IsEnabled(LogLevel.Trace))
                {
                    _logger.LogTrace("received {Payload}", PayloadFormatter.Format(buffer.Slice(_unconsumed)));
                }
            }

            if (result.IsCompleted)
            {
                _session.MarkInputCompleted();
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _unconsumed = consumed.Equals(_lastBuffer.End) ? 0 : _lastBuffer.Slice(consumed).Length;
            _lastBuffer = default;
            _inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => _inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => _inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
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

            // The transport's buffer is full: the client is not reading. The memory budget may cut it if memory runs short.
            session.MarkOutputBlocked();
            return AwaitFlush(pending);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<FlushResult> AwaitFlush(ValueTask<FlushResult> pending)
        {
            try
            {
                var result = await pending.ConfigureAwait(false);
                OnFlushed(result);
                return result;
            }
            finally
            {
                session.MarkOutputFlowing();
            }
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
