namespace EchoHost.Protocols.Chat;

/// <summary>
/// The framing chat and IRC lines share: a line ends with LF, CRLF or a bare CR; a line longer than the buffer is
/// reported once and discarded up to its end, so memory per connection never exceeds the buffer. Each protocol decides
/// what a complete line becomes (<see cref="OnLine"/>). State carries across calls; one decoder per connection.
/// </summary>
internal abstract class LineFramer(int capacity) : ILineDecoder
{
    private const byte Cr = (byte)'\r', Lf = (byte)'\n';

    private readonly byte[] _line = new byte[capacity];
    private int _length;
    private bool _discarding;
    private bool _afterCr;

    public abstract void Decode(ReadOnlySpan<byte> bytes, List<ChatInput> output);

    /// <summary>At the end of input: a last line without a line ending still counts.</summary>
    public void Complete(List<ChatInput> output)
    {
        if (_length > 0 || _discarding)
        {
            EndLine(output);
        }
    }

    /// <summary>A complete line (not one being discarded); the buffer it lies in is reused by the next byte.</summary>
    protected abstract void OnLine(ReadOnlySpan<byte> line, List<ChatInput> output);

    /// <summary>Takes <paramref name="b"/> if it ends a line (or is the LF of a CRLF); false for any other byte.</summary>
    protected bool TryEndLine(byte b, List<ChatInput> output)
    {
        if (_afterCr)
        {
            _afterCr = false;
            if (b == Lf)
            {
                return true; // the rest of CRLF: the line already ended at CR
            }
        }

        switch (b)
        {
            case Lf:
                EndLine(output);
                return true;
            case Cr:
                EndLine(output);
                _afterCr = true;
                return true;
            default:
                return false;
        }
    }

    protected void Append(byte b, List<ChatInput> output)
    {
        if (_discarding)
        {
            return;
        }

        if (_length == _line.Length)
        {
            _discarding = true;
            _length = 0;
            output.Add(ChatInput.TooLong);
            return;
        }

        _line[_length++] = b;
    }

    private void EndLine(List<ChatInput> output)
    {
        if (_discarding)
        {
            _discarding = false;
            return;
        }

        var line = _line.AsSpan(0, _length);
        _length = 0;
        OnLine(line, output);
    }
}
