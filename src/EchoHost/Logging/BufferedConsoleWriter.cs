using System.Text;

namespace EchoHost.Logging;

/// <summary>
/// Standard output for the log, written in batches. The console sink formats each line on the thread that logs and
/// asks for a flush after every line; here that flush only schedules one write a few milliseconds later, which takes
/// every line formatted meanwhile in a single system call. At thousands of connections a second that is the
/// difference between one write per access-log line and a few dozen writes a second. Nothing is dropped: when more
/// than <see cref="MaxPendingChars"/> wait (standard output is slower than the log), the line's writer does the write
/// itself, which is the backpressure a plain console gives. <see cref="Dispose(bool)"/> writes what is left.
/// </summary>
internal sealed class BufferedConsoleWriter : TextWriter
{
    /// <summary>How long a line may wait for the lines after it; short enough that nobody watching notices.</summary>
    internal static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(20);

    internal const int MaxPendingChars = 256 * 1024;

    private readonly Stream _output;
    private readonly Lock _bufferLock = new();
    private readonly Lock _writeLock = new();
    private readonly ITimer _timer;
    private StringBuilder _pending = new(4096);
    private StringBuilder _spare = new(4096);
    private byte[] _bytes = new byte[16 * 1024];
    private int _scheduled;
    private bool _disposed;

    public BufferedConsoleWriter(Stream output, TimeProvider? time = null)
    {
        _output = output;
        _timer = (time ?? TimeProvider.System).CreateTimer(static s => ((BufferedConsoleWriter)s!).WriteScheduled(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public override Encoding Encoding { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Replaces <see cref="Console.Out"/> with a batching writer over standard output until disposed.</summary>
    public static IDisposable InstallForConsole()
    {
        var original = Console.Out;
        var writer = new BufferedConsoleWriter(Console.OpenStandardOutput());
        Console.SetOut(writer);
        return new Installed(writer, original);
    }

    public override void Write(char value)
    {
        lock (_bufferLock)
        {
            _pending.Append(value);
        }
    }

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_bufferLock)
        {
            _pending.Append(buffer);
        }
    }

    /// <summary>Schedules the write; the caller's line waits at most <see cref="FlushDelay"/>.</summary>
    public override void Flush()
    {
        bool full;
        lock (_bufferLock)
        {
            full = _pending.Length >= MaxPendingChars || _disposed;
        }

        if (full)
        {
            WritePending();
        }
        else if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _timer.Change(FlushDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void WriteScheduled()
    {
        Volatile.Write(ref _scheduled, 0);
        WritePending();
    }

    /// <summary>Takes every pending line and writes it in one call; one writer at a time keeps the lines in order.</summary>
    private void WritePending()
    {
        lock (_writeLock)
        {
            StringBuilder taken;
            lock (_bufferLock)
            {
                if (_pending.Length == 0)
                {
                    return;
                }

                taken = _pending;
                _pending = _spare;
            }

            var length = 0;
            foreach (var chunk in taken.GetChunks())
            {
                var needed = length + Encoding.GetMaxByteCount(chunk.Length);
                if (needed > _bytes.Length)
                {
                    Array.Resize(ref _bytes, Math.Max(needed, _bytes.Length * 2));
                }

                length += Encoding.GetBytes(chunk.Span, _bytes.AsSpan(length));
            }

            taken.Clear();
            lock (_bufferLock)
            {
                _spare = taken;
            }

            try
            {
                _output.Write(_bytes, 0, length);
                _output.Flush();
            }
            catch (IOException)
            {
                // Standard output went away (a closed pipe): the log has nowhere to go, and serving goes on.
            }

            if (_bytes.Length > 4 * MaxPendingChars)
            {
                _bytes = new byte[16 * 1024];
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_bufferLock)
            {
                _disposed = true;
            }

            _timer.Dispose();
            WritePending();
        }

        base.Dispose(disposing);
    }

    private sealed class Installed(BufferedConsoleWriter writer, TextWriter original) : IDisposable
    {
        public void Dispose()
        {
            Console.SetOut(original);
            writer.Dispose();
        }
    }
}
