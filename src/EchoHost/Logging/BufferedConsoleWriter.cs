using System.Runtime.InteropServices;
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
/// <remarks>
/// Lock order, so no deadlock is possible: a logging thread comes in holding the <see cref="Console.Out"/> monitor
/// (the synchronized writer around this one takes it for every call) and may then take <c>_writeLock</c>, then
/// <c>_bufferLock</c>. The timer's write takes <c>_writeLock</c> without that monitor, so nothing done under
/// <c>_writeLock</c> may ever wait for it: the bytes go to descriptor 1 with write(2) directly
/// (<see cref="StandardOutput"/>). .NET's own standard output stream locks <see cref="Console.Out"/> around each
/// write, which made a timer write and a logging thread at the pending limit wait for each other for good.
/// </remarks>
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
    public static IDisposable InstallForConsole(TimeProvider? time = null)
    {
        var original = Console.Out;
        var writer = new BufferedConsoleWriter(OperatingSystem.IsWindows() ? Console.OpenStandardOutput() : new StandardOutput(), time);
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

    /// <summary>
    /// Descriptor 1 with write(2): no lock of the console's (see the remarks above), and no file position of its own
    /// (a FileStream would write at its own offset into a file shared with standard error, over what that wrote).
    /// </summary>
    internal sealed class StandardOutput : Stream
    {
        private const int Descriptor = 1;
        private const int EINTR = 4;
        private const int EAGAIN = 11;
        private const short POLLOUT = 4;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var written = write(Descriptor, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
                if (written >= 0)
                {
                    buffer = buffer[(int)written..];
                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN)
                {
                    // A parent may have made the pipe non-blocking: wait until it takes more, as a blocking write would.
                    var wait = new PollDescriptor { Descriptor = Descriptor, Events = POLLOUT };
                    poll(ref wait, 1, -1);
                }
                else if (errno != EINTR)
                {
                    // EPIPE among others: the caller treats standard output as gone.
                    throw new IOException($"writing to standard output failed (errno {errno})");
                }
            }
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

        [StructLayout(LayoutKind.Sequential)]
        private struct PollDescriptor
        {
            public int Descriptor;
            public short Events;
            public short ReturnedEvents;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern nint write(int fd, ref byte buffer, nuint count);

        [DllImport("libc", SetLastError = true)]
        private static extern int poll(ref PollDescriptor descriptors, nuint count, int timeout);
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
