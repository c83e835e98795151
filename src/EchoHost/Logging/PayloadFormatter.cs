using System.Text;

namespace EchoHost.Logging;

/// <summary>
/// Renders payload bytes for Verbose logs the way the classic socket tutorials print them — <c>b'hello\n'</c> —
/// escaped so no client can forge log lines or terminal escapes, and truncated so no payload floods the log.
/// </summary>
internal static class PayloadFormatter
{
    public const int DefaultMaxBytes = 64;

    public static string Format(ReadOnlySequence<byte> payload, int maxBytes = DefaultMaxBytes)
    {
        var shown = payload.Length > maxBytes ? payload.Slice(0, maxBytes) : payload;
        var text = new StringBuilder((int)shown.Length + 16).Append("b'");
        foreach (var segment in shown)
        {
            foreach (var b in segment.Span)
            {
                Append(text, b);
            }
        }

        text.Append('\'');
        if (payload.Length > maxBytes)
        {
            text.Append("… (").Append(payload.Length).Append(" bytes)");
        }

        return text.ToString();
    }

    public static string Format(ReadOnlySpan<byte> payload, int maxBytes = DefaultMaxBytes) =>
        Format(new ReadOnlySequence<byte>(payload.ToArray()), maxBytes);

    private static void Append(StringBuilder text, byte b)
    {
        switch (b)
        {
            case (byte)'\n': text.Append("\\n"); break;
            case (byte)'\r': text.Append("\\r"); break;
            case (byte)'\t': text.Append("\\t"); break;
            case (byte)'\\': text.Append("\\\\"); break;
            case (byte)'\'': text.Append("\\'"); break;
            case >= 0x20 and < 0x7f: text.Append((char)b); break;
            default: text.Append("\\x").Append(b.ToString("x2")); break;
        }
    }
}
