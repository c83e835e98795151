namespace EchoHost.Load.Modes;

/// <summary>
/// Reads through a buffer, writes straight through. .NET's WebSocket reads a frame header and then its payload in
/// separate reads of the stream (its own buffer holds a header only), which over a socket is two system calls per
/// message: with 500 chat users receiving 200 messages/s each, the client, not the server, was the limit. Reading in
/// 16 KiB blocks takes a batch of messages per call, as the TCP chat's line reader does. It also keeps whatever the
/// server sent right behind its upgrade answer (the chat greeting) for the WebSocket. Writes are never held back.
/// </summary>
internal sealed class ReadBufferedStream(Stream inner) : Stream
{
    private const int Size = 16 * 1024;

    private readonly byte[] _buffer = new byte[Size];
    private int _start;
    private int _end;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_start == _end)
        {
            if (destination.Length >= Size)
            {
                return await inner.ReadAsync(destination, cancellationToken);
            }

            (_start, _end) = (0, await inner.ReadAsync(_buffer, cancellationToken));
        }

        return Take(destination.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_start == _end)
        {
            (_start, _end) = (0, inner.Read(_buffer, 0, Size));
        }

        return Take(buffer.AsSpan(offset, count));
    }

    private int Take(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => inner.WriteAsync(source, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
