using System.Diagnostics;

namespace EchoHost.Load.Modes;

/// <summary>
/// Bulk: each connection writes as fast as the server takes it while reading the echo concurrently; at the end it
/// shuts down its sending side and reads until the server closes. Every byte is checked, and the echo must be as long
/// as what was sent.
/// </summary>
internal static class StreamMode
{
    public const string LatencyOf = "write to its last echoed byte";

    public static Task RunAsync(LoadRun run) =>
        Task.WhenAll(Enumerable.Range(0, run.Options.Connections).Select(i => Task.Run(() => ConnectionAsync(run, i))));

    private static async Task ConnectionAsync(LoadRun run, int index)
    {
        var options = run.Options;
        var worker = run.NewWorker();
        var who = $"connection {index}";
        var start = Pattern.StartOf(index);
        using var connection = Tcp.NewConnection(options, index);
        worker.Socket = connection.Socket;
        try
        {
            worker.Begin();
            await connection.ConnectAsync(run.Stopping);
        }
        catch (OperationCanceledException) when (run.IsStopping)
        {
            return;
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            worker.Error(Tcp.Describe(ex, worker, who, "connecting"));
            return;
        }

        var log = new SendLog();
        var written = new StrongBox();
        var writer = Task.Run(() => WriteAsync(run, connection, worker, start, log, written, who));
        await ReadAsync(run, connection, worker, start, log, written, writer, who);
        await writer;
    }

    private static async Task WriteAsync(LoadRun run, Connection connection, WorkerStats worker, int start, SendLog log, StrongBox written, string who)
    {
        var size = run.Options.Size;
        var pacer = new Pacer(run, 0, run.Options.Connections);
        try
        {
            while (run.TryTakeOp())
            {
                var due = await pacer.WaitAsync(run.Stopping);
                await Tcp.SendPatternAsync(connection, start, written.Value, size);
                Volatile.Write(ref written.Value, written.Value + size);
                log.TryPush(written.Value, due);
            }

            written.Done = true;
            Interlocked.MemoryBarrier(); // the reader stores Received, then reads Done: one of the two sees the other
            if (connection.IsTls && Volatile.Read(ref written.Received) != written.Value)
            {
                // OpenSSL must not shut down while it decrypts on the reader's thread: with the echo all in, the
                // reader only waits on the socket, and the close_notify can go out safely.
                await written.EchoedAll.Task;
            }

            await connection.ShutdownSendAsync();
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            written.Done = true;
            if (!worker.TimedOut && worker.Errors + worker.Mismatches == 0)
            {
                worker.Error(Tcp.Describe(ex, worker, who, "writing"));
            }
        }
    }

    private static async Task ReadAsync(LoadRun run, Connection connection, WorkerStats worker, int start, SendLog log, StrongBox written, Task writer, string who)
    {
        var size = run.Options.Size;
        var buffer = Tcp.NewBuffer(Pattern.MaxChunk);
        long received = 0;
        try
        {
            while (true)
            {
                worker.Begin();
                var n = await connection.ReceiveAsync(buffer);
                if (n == 0)
                {
                    break;
                }

                if (!Tcp.Check(worker, buffer.AsSpan(0, n), start, received, who))
                {
                    connection.Dispose();
                    return;
                }

                var before = received;
                received += n;
                Volatile.Write(ref written.Received, received);
                Interlocked.MemoryBarrier();
                if (written.Done && received == Volatile.Read(ref written.Value))
                {
                    written.EchoedAll.TrySetResult();
                }

                if (run.Measuring)
                {
                    worker.Ops += received / size - before / size;
                    worker.Bytes += n;
                }

                log.Complete(received, worker.Latency, run.Measuring);
            }

            worker.OpStarted = 0;
            await writer;
            var sent = Volatile.Read(ref written.Value);
            if (received != sent)
            {
                worker.Error($"{who}: the server closed after echoing {received} of {sent} bytes");
            }
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            worker.Error(Tcp.Describe(ex, worker, who, written.Done ? "reading the echo after the half-close" : "reading the echo"));
        }
        finally
        {
            // Never leave the writer waiting for an echo that will not come.
            written.EchoedAll.TrySetResult();
        }
    }

    /// <summary>What the writer wrote and the reader got back, shared by the two.</summary>
    private sealed class StrongBox
    {
        public long Value;
        public long Received;
        public volatile bool Done;

        /// <summary>Set once everything written has come back after the last write (or the reader has stopped).</summary>
        public TaskCompletionSource EchoedAll { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// When each write was due and where it ends in the stream, so the reader can time it when its last byte comes
    /// back. Single writer, single reader, fixed size: when full, a write is simply not timed.
    /// </summary>
    private sealed class SendLog
    {
        private const int Capacity = 4096;
        private readonly long[] _ends = new long[Capacity];
        private readonly long[] _times = new long[Capacity];
        private long _head;
        private long _tail;

        public void TryPush(long end, long time)
        {
            var head = _head;
            if (head - Volatile.Read(ref _tail) >= Capacity)
            {
                return;
            }

            _ends[head % Capacity] = end;
            _times[head % Capacity] = time;
            Volatile.Write(ref _head, head + 1);
        }

        public void Complete(long received, Histogram latency, bool record)
        {
            var now = Stopwatch.GetTimestamp();
            var tail = _tail;
            var head = Volatile.Read(ref _head);
            while (tail < head && _ends[tail % Capacity] <= received)
            {
                if (record)
                {
                    latency.RecordTicks(now - _times[tail % Capacity]);
                }

                tail++;
            }

            Volatile.Write(ref _tail, tail);
        }
    }
}
