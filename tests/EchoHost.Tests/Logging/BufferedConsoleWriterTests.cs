using System.Text;
using EchoHost.Logging;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>Tests that replace the process's <see cref="Console.Out"/> run alone: no other test may log through it meanwhile.</summary>
[CollectionDefinition(nameof(BufferedConsoleWriterTests), DisableParallelization = true)]
public sealed class ConsoleOutCollection;

/// <summary>The log's standard output: lines batched into one write, none lost, none reordered, and no deadlock.</summary>
[Collection(nameof(BufferedConsoleWriterTests))]
public sealed class BufferedConsoleWriterTests
{
    [Fact]
    public void Lines_flushed_one_by_one_reach_the_output_in_one_write_when_the_timer_fires()
    {
        var output = new RecordingStream();
        var time = new TimerTime();
        using var writer = new BufferedConsoleWriter(output, time);

        for (var i = 0; i < 100; i++)
        {
            writer.Write($"line {i}");
            writer.Write(Environment.NewLine);
            writer.Flush();
        }

        Assert.Empty(output.Writes);
        Assert.Equal(BufferedConsoleWriter.FlushDelay, time.Timer.DueTime);
        time.Timer.Fire();

        var write = Assert.Single(output.Writes);
        Assert.Equal(string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i}{Environment.NewLine}")), Encoding.UTF8.GetString(write));
    }

    [Fact]
    public void Text_is_utf8_without_a_byte_order_mark()
    {
        var output = new RecordingStream();
        var time = new TimerTime();
        using var writer = new BufferedConsoleWriter(output, time);

        writer.Write("héllo ☃ 😀 ");
        writer.Write('€');
        writer.Write("abc".ToCharArray(), 1, 2);
        writer.Flush();
        time.Timer.Fire();

        Assert.Equal("héllo ☃ 😀 €bc"u8.ToArray(), Assert.Single(output.Writes));
    }

    [Fact]
    public void A_writer_that_outruns_the_output_writes_itself_instead_of_buffering_without_bound()
    {
        var output = new RecordingStream();
        var time = new TimerTime();
        using var writer = new BufferedConsoleWriter(output, time);
        var line = new string('x', 1000) + "\n";

        var lines = 0;
        while (output.Writes.Count == 0)
        {
            writer.Write(line);
            writer.Flush();
            lines++;
            Assert.True(lines < 1000, "the pending lines were never written");
        }

        Assert.Equal(lines * line.Length, output.Writes.Sum(w => w.Length));
        Assert.True(output.Writes[0].Length >= BufferedConsoleWriter.MaxPendingChars);
    }

    [Fact]
    public void Disposing_writes_what_is_pending()
    {
        var output = new RecordingStream();
        var writer = new BufferedConsoleWriter(output, new TimerTime());
        writer.Write("last words\n");
        writer.Flush();

        writer.Dispose();

        Assert.Equal("last words\n", Encoding.UTF8.GetString(Assert.Single(output.Writes)));
    }

    [Fact]
    public void Lines_written_while_a_write_is_under_way_follow_it_in_order()
    {
        var output = new RecordingStream();
        var time = new TimerTime();
        using var writer = new BufferedConsoleWriter(output, time);
        output.OnWrite = () =>
        {
            // The timer's write has taken the pending lines; a line logged now waits for the next write.
            output.OnWrite = null;
            writer.Write("second\n");
            writer.Flush();
        };

        writer.Write("first\n");
        writer.Flush();
        time.Timer.Fire();
        time.Timer.Fire();

        Assert.Equal(["first\n", "second\n"], output.Writes.Select(Encoding.UTF8.GetString));
    }

    /// <summary>
    /// The deadlock seen at ~150k lines/s, forced: a logging thread holds the <see cref="Console.Out"/> monitor (as
    /// Serilog's sink does through the synchronized writer's Flush) while the timer's write is under way, then logs
    /// past the pending limit, which writes itself. Standard output's own stream took that monitor inside the write,
    /// so each thread waited for the other for good. Both run on threads of their own, and a bounded wait tells; on a
    /// deadlock the console is given back so the rest of the run can go on (the two threads stay stuck).
    /// </summary>
    [Fact]
    public void The_timer_write_never_waits_for_a_thread_holding_the_console_while_it_logs()
    {
        var original = Console.Out;
        var time = new TimerTime();
        var installed = BufferedConsoleWriter.InstallForConsole(time);
        var console = Console.Out;
        var holding = new ManualResetEventSlim();
        var timerWaitsOrDone = new ManualResetEventSlim();
        var timerDone = new ManualResetEventSlim();
        var loggerDone = new ManualResetEventSlim();
        var firing = 0;
        var timer = new Thread(() =>
        {
            holding.Wait();
            Volatile.Write(ref firing, 1);
            time.Timer.Fire();
            timerDone.Set();
        }) { IsBackground = true, Name = "console timer" };
        var logger = new Thread(() =>
        {
            lock (console)
            {
                console.Write("[deadlock test] scheduled line\n");
                console.Flush();
                holding.Set();
                timerWaitsOrDone.Wait(TestTimeouts.Default);
                // Past the pending limit: this flush writes itself, under the console's monitor.
                console.Write(new string(' ', BufferedConsoleWriter.MaxPendingChars) + "\n");
                console.Flush();
            }

            loggerDone.Set();
        }) { IsBackground = true, Name = "console logger" };
        logger.Start();
        timer.Start();

        // The timer's write either finished or is blocked (on the console's monitor, with the write lock held).
        var watch = TestTimeouts.Token();
        while (!timerDone.IsSet && !(Volatile.Read(ref firing) == 1 && (timer.ThreadState & ThreadState.WaitSleepJoin) != 0)
               && !watch.IsCancellationRequested)
        {
            Thread.Sleep(1);
        }

        timerWaitsOrDone.Set();
        var finished = loggerDone.Wait(TestTimeouts.Default) && timerDone.Wait(TestTimeouts.Default);
        if (!finished)
        {
            Console.SetOut(original);
        }
        else
        {
            installed.Dispose();
        }

        Assert.True(finished, $"deadlock: logger {(loggerDone.IsSet ? "done" : "stuck")}, timer {(timerDone.IsSet ? "done" : "stuck")}");
    }

    private sealed class RecordingStream : Stream
    {
        public List<byte[]> Writes { get; } = [];

        public Action? OnWrite { get; set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(buffer.AsSpan(offset, count).ToArray());
            OnWrite?.Invoke();
        }

        public override void Flush()
        {
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A clock whose one timer fires when the test says.</summary>
    private sealed class TimerTime : TimeProvider
    {
        public ManualTimer Timer { get; private set; } = null!;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            Timer = new ManualTimer(callback, state);
    }

    private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan DueTime { get; private set; } = Timeout.InfiniteTimeSpan;

        public void Fire()
        {
            DueTime = Timeout.InfiniteTimeSpan;
            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            DueTime = dueTime;
            return true;
        }

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
