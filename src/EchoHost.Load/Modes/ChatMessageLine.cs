using System.Buffers.Text;
using System.Text;

namespace EchoHost.Load.Modes;

/// <summary>
/// The text of a load client's chat message, <c>L&lt;sender&gt; &lt;seq&gt; &lt;timestamp&gt; &lt;padding&gt;</c>: written by the
/// sender, read and checked byte for byte by every receiver. The padding is derived from sender and sequence, so a
/// changed byte is a mismatch.
/// </summary>
internal static class ChatMessageLine
{
    /// <summary>Writes <paramref name="prefix"/>, the text padded to <paramref name="size"/> bytes and CRLF; returns the length.</summary>
    public static int Write(Span<byte> span, ReadOnlySpan<byte> prefix, int sender, long seq, long timestamp, int size)
    {
        prefix.CopyTo(span);
        var n = prefix.Length;
        var textStart = n;
        span[n++] = (byte)'L';
        Utf8Formatter.TryFormat(sender, span[n..], out var w);
        n += w;
        span[n++] = (byte)' ';
        Utf8Formatter.TryFormat(seq, span[n..], out w);
        n += w;
        span[n++] = (byte)' ';
        Utf8Formatter.TryFormat(timestamp, span[n..], out w);
        n += w;
        span[n++] = (byte)' ';
        var padding = Math.Max(1, size - (n - textStart));
        for (var j = 0; j < padding; j++)
        {
            span[n++] = PaddingByte(sender, seq, j);
        }

        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        return n;
    }

    /// <summary>
    /// Reads and checks a message's text. False with a null <paramref name="mismatch"/> when the text is not one of
    /// ours (someone else in the room); false with the reason when it is ours but damaged.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> text, int users, int size, out int sender, out long seq, out long sentAt, out string? mismatch)
    {
        (sender, seq, sentAt, mismatch) = (0, 0, 0, null);
        if (text.Length < 2 || text[0] != 'L')
        {
            return false;
        }

        if (!Utf8Parser.TryParse(text[1..], out sender, out var used) || sender < 0 || sender >= users)
        {
            mismatch = $"unreadable message line '{Encoding.UTF8.GetString(text)}'";
            return false;
        }

        var rest = text[(1 + used)..];
        if (rest.Length < 2 || rest[0] != ' ' || !Utf8Parser.TryParse(rest[1..], out seq, out used) || seq < 1)
        {
            mismatch = $"unreadable sequence in '{Encoding.UTF8.GetString(text)}'";
            return false;
        }

        rest = rest[(1 + used)..];
        if (rest.Length < 2 || rest[0] != ' ' || !Utf8Parser.TryParse(rest[1..], out sentAt, out used))
        {
            mismatch = $"unreadable timestamp in '{Encoding.UTF8.GetString(text)}'";
            return false;
        }

        var padding = rest[(1 + used)..];
        if (padding.Length < 2 || padding[0] != ' ')
        {
            mismatch = $"message {sender}/{seq} has lost its padding";
            return false;
        }

        padding = padding[1..];
        var expectedLength = Math.Max(1, size - (text.Length - padding.Length));
        for (var j = 0; j < padding.Length; j++)
        {
            if (padding[j] != PaddingByte(sender, seq, j))
            {
                mismatch = $"message {sender}/{seq}: byte {text.Length - padding.Length + j} of the text is 0x{padding[j]:x2}, sent 0x{PaddingByte(sender, seq, j):x2}";
                return false;
            }
        }

        if (padding.Length != expectedLength)
        {
            mismatch = $"message {sender}/{seq} arrived with {padding.Length} padding bytes, {expectedLength} sent";
            return false;
        }

        return true;
    }

    private static byte PaddingByte(long sender, long seq, int j) => (byte)('a' + (int)((sender * 31 + seq * 7 + j) % 26));
}
