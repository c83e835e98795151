using System.Text;
using EchoHost.Logging;

namespace EchoHost.Tests.Logging;

public sealed class PayloadFormatterTests
{
    [Fact]
    public void Prints_like_the_classic_tutorial() =>
        Assert.Equal("b'This is the mess'", PayloadFormatter.Format("This is the mess"u8));

    [Fact]
    public void Escapes_control_bytes_quotes_and_non_ascii() =>
        Assert.Equal(@"b'a\nb\r\tc\\d\'e\x00\x1b[31m\xc3\xa9'", PayloadFormatter.Format(Encoding.UTF8.GetBytes("a\nb\r\tc\\d'e\0\u001b[31mé")));

    [Fact]
    public void Truncates_long_payloads_and_says_how_long_they_were()
    {
        var text = PayloadFormatter.Format(new byte[1000].AsSpan(), maxBytes: 4);

        Assert.Equal(@"b'\x00\x00\x00\x00'… (1000 bytes)", text);
    }

    [Fact]
    public void Reads_across_segments()
    {
        var first = new Segment("ab"u8.ToArray());
        var last = first.Append("cd"u8.ToArray());

        Assert.Equal("b'abcd'", PayloadFormatter.Format(new ReadOnlySequence<byte>(first, 0, last, 2)));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
