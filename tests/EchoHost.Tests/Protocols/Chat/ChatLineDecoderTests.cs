using System.Text;
using EchoHost.Protocols.Chat;

namespace EchoHost.Tests.Protocols.Chat;

public sealed class ChatLineDecoderTests
{
    private const byte Iac = 255, Will = 251, Wont = 252, Do = 253, Dont = 254, Sb = 250, Se = 240, Nop = 241;

    private static List<ChatInput> Decode(int maxLineBytes, params byte[][] reads)
    {
        var decoder = new ChatLineDecoder(maxLineBytes);
        var output = new List<ChatInput>();
        foreach (var read in reads)
        {
            decoder.Decode(read, output);
        }

        return output;
    }

    private static List<ChatInput> Decode(params byte[][] reads) => Decode(2048, reads);

    private static byte[] B(string ascii) => Encoding.ASCII.GetBytes(ascii);

    private static List<string?> Texts(List<ChatInput> inputs) => inputs.Select(i => i.Kind == ChatInputKind.Line ? i.Text : i.Kind.ToString()).ToList();

    [Theory]
    [InlineData("one\ntwo\n")] // nc: bare LF
    [InlineData("one\r\ntwo\r\n")] // telnet line mode: CRLF
    [InlineData("one\r\0two\r\0")] // telnet: CR NUL
    [InlineData("one\rtwo\r")] // a bare CR ends a line too, so it can never rewrite a terminal line
    public void Every_line_ending_ends_a_line_exactly_once(string input) =>
        Assert.Equal(["one", "two"], Texts(Decode(B(input))));

    [Fact]
    public void Crlf_split_between_reads_is_one_line_ending() =>
        Assert.Equal(["one", "two"], Texts(Decode(B("one\r"), B("\ntwo\r"), B("\0"))));

    [Fact]
    public void Empty_lines_are_lines() => Assert.Equal(["", "x"], Texts(Decode(B("\nx\n"))));

    [Fact]
    public void A_line_split_across_many_reads_is_reassembled()
    {
        var reads = Encoding.UTF8.GetBytes("¡hola, qué tal! 你好\n").Select(b => new[] { b }).ToArray();

        Assert.Equal(["¡hola, qué tal! 你好"], Texts(Decode(reads)));
    }

    public static TheoryData<byte[]> TelnetSequences => new()
    {
        new byte[] { Iac, Will, 1 },
        new byte[] { Iac, Wont, 3 },
        new byte[] { Iac, Do, 24 },
        new byte[] { Iac, Dont, 31 },
        new byte[] { Iac, Nop },
        new byte[] { Iac, Sb, 24, 0, (byte)'x', (byte)'t', (byte)'e', (byte)'r', (byte)'m', Iac, Se },
        new byte[] { Iac, Sb, 31, 0, 80, 0, 24, Iac, Iac, Iac, Se }, // IAC IAC inside SB is data of the SB
        new byte[] { Iac, Do, 1, Iac, Will, 3, Iac, Sb, 1, 1, Iac, Se },
    };

    [Theory]
    [MemberData(nameof(TelnetSequences))]
    public void Telnet_commands_are_removed_wherever_the_reads_split(byte[] sequence)
    {
        var stream = B("he").Concat(sequence).Concat(B("llo\r\n")).ToArray();

        // Every way to cut the stream into two reads, and byte by byte.
        for (var cut = 0; cut <= stream.Length; cut++)
        {
            Assert.Equal(["hello"], Texts(Decode(stream[..cut], stream[cut..])));
        }

        Assert.Equal(["hello"], Texts(Decode(stream.Select(b => new[] { b }).ToArray())));
    }

    [Fact]
    public void Iac_iac_is_a_literal_ff_byte()
    {
        var inputs = Decode([(byte)'a', Iac, Iac, (byte)'\n']);

        // 0xFF alone is not UTF-8, so the line is reported as such: the byte reached the line, it was not eaten.
        Assert.Equal(ChatInputKind.InvalidUtf8, Assert.Single(inputs).Kind);
    }

    [Fact]
    public void Iac_iac_split_across_reads_is_still_one_literal_byte() =>
        Assert.Equal([ChatInputKind.InvalidUtf8, ChatInputKind.Line], Decode([Iac], [Iac, (byte)'\n'], B("ok\n")).Select(i => i.Kind));

    [Fact]
    public void An_overlong_line_is_reported_once_and_discarded_to_its_end_then_decoding_goes_on()
    {
        var inputs = Decode(8, B("12345"), B("6789abcdef"), B("ghij\nnext\n"));

        Assert.Equal([ChatInputKind.TooLong, ChatInputKind.Line], inputs.Select(i => i.Kind));
        Assert.Equal("next", inputs[1].Text);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_accepted() =>
        Assert.Equal(["12345678"], Texts(Decode(8, B("12345678\n"))));

    [Fact]
    public void A_mebibyte_without_newline_reports_once_and_keeps_no_more_than_the_limit()
    {
        var decoder = new ChatLineDecoder(2048);
        var output = new List<ChatInput>();
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)'x');

        for (var i = 0; i < 16; i++)
        {
            decoder.Decode(chunk, output);
        }

        Assert.Equal(ChatInputKind.TooLong, Assert.Single(output).Kind);
    }

    [Fact]
    public void Invalid_utf8_is_reported_and_the_next_line_is_fine()
    {
        var inputs = Decode([0xC3, 0x28, (byte)'\n'], B("fine\n"));

        Assert.Equal([ChatInputKind.InvalidUtf8, ChatInputKind.Line], inputs.Select(i => i.Kind));
    }

    [Fact]
    public void Control_characters_cannot_reach_other_terminals() =>
        Assert.Equal(["x\uFFFD[2Jgone\tok\uFFFD"], Texts(Decode(B("x\u001b[2Jgone\tok\u0007\n"))));

    [Theory]
    [InlineData("bidi \u202ERLO", "bidi \uFFFDRLO")] // right-to-left override: would reorder others' terminals
    [InlineData("\u2066isolate\u2069", "\uFFFDisolate\uFFFD")]
    [InlineData("ad\u200Bmin", "ad\uFFFDmin")] // zero-width space: "admin" that is not "admin"
    [InlineData("\u200Ejoin\u200F", "\uFFFDjoin\uFFFD")]
    [InlineData("tag\U000E0041", "tag\uFFFD")] // an invisible tag character, outside the BMP
    [InlineData("one\u2028two", "one\uFFFDtwo")] // line separator: a line break in some terminals and every web view
    [InlineData("one\u2029two", "one\uFFFDtwo")] // paragraph separator, likewise
    [InlineData("plain ñandú 🙂", "plain ñandú 🙂")]
    public void Format_characters_are_made_visible_like_control_characters(string sent, string delivered) =>
        Assert.Equal([delivered], Texts(Decode(Encoding.UTF8.GetBytes(sent + "\n"))));

    [Fact]
    public void A_line_whose_made_visible_form_is_over_the_limit_is_too_long()
    {
        // Each 0x01 after the first visible character becomes U+FFFD, three bytes: MaxLineBytes bounds what is delivered
        // and stored, not only what came in.
        var inputs = Decode(60, [(byte)'x', .. Enumerable.Repeat((byte)1, 20), (byte)'\n', (byte)'x', .. Enumerable.Repeat((byte)1, 19), (byte)'\n']);

        Assert.Equal(["TooLong", "x" + new string('\uFFFD', 19)], Texts(inputs));
    }

    [Fact]
    public void Complete_delivers_a_last_line_without_a_line_ending()
    {
        var decoder = new ChatLineDecoder(2048);
        var output = new List<ChatInput>();
        decoder.Decode(B("bye"), output);

        decoder.Complete(output);

        Assert.Equal(["bye"], Texts(output));
    }
}
