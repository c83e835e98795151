using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Turns the bytes of one connection into chat lines, whatever sends them: nc (bare LF), telnet (CRLF, CR NUL and
/// IAC option negotiation) or a program. Telnet commands are removed, also when split across reads; <c>IAC IAC</c> is
/// a literal 0xFF. The framing and the line limit are <see cref="LineFramer"/>'s.
/// </summary>
internal sealed class ChatLineDecoder(int maxLineBytes) : LineFramer(maxLineBytes)
{
    private const byte Iac = 255, Dont = 254, Do = 253, Wont = 252, Will = 251, Sb = 250, Se = 240;
    private const byte Nul = 0;

    private readonly int _maxLineBytes = maxLineBytes;
    private TelnetState _telnet;

    private enum TelnetState
    {
        Data,
        Command,
        Option,
        Subnegotiation,
        SubnegotiationIac,
    }

    public override void Decode(ReadOnlySpan<byte> bytes, List<ChatInput> output)
    {
        foreach (var b in bytes)
        {
            switch (_telnet)
            {
                case TelnetState.Data:
                    OnData(b, output);
                    break;
                case TelnetState.Command:
                    _telnet = b switch
                    {
                        Will or Wont or Do or Dont => TelnetState.Option,
                        Sb => TelnetState.Subnegotiation,
                        _ => TelnetState.Data,
                    };
                    if (b == Iac)
                    {
                        Append(Iac, output);
                    }

                    break;
                case TelnetState.Option:
                    _telnet = TelnetState.Data;
                    break;
                case TelnetState.Subnegotiation:
                    _telnet = b == Iac ? TelnetState.SubnegotiationIac : TelnetState.Subnegotiation;
                    break;
                case TelnetState.SubnegotiationIac:
                    _telnet = b == Se ? TelnetState.Data : TelnetState.Subnegotiation;
                    break;
            }
        }
    }

    private void OnData(byte b, List<ChatInput> output)
    {
        // CR NUL ends a line as CRLF does; a NUL anywhere else is telnet padding too.
        if (TryEndLine(b, output))
        {
            return;
        }

        switch (b)
        {
            case Iac:
                _telnet = TelnetState.Command;
                break;
            case Nul:
                break; // telnet padding
            default:
                Append(b, output);
                break;
        }
    }

    protected override void OnLine(ReadOnlySpan<byte> line, List<ChatInput> output)
    {
        if (!Utf8.IsValid(line))
        {
            output.Add(ChatInput.InvalidUtf8);
            return;
        }

        // The limit bounds what is delivered and kept in history, not only what came in: a made-visible character can
        // take more bytes than the one it replaces.
        var received = WithoutLeadingControls(Encoding.UTF8.GetString(line));
        var text = Sanitize(received);
        output.Add(!ReferenceEquals(text, received) && Encoding.UTF8.GetByteCount(text) > _maxLineBytes ? ChatInput.TooLong : ChatInput.Line(text));
    }

    /// <summary>
    /// Control characters (C0, DEL and C1) before a line's first visible character are dropped (the blanks among them stay): a stray
    /// Ctrl+L typed in telnet before <c>/join games</c> must not turn the command into a message to the room. A line
    /// of nothing but controls is empty, which the chat ignores. Further in, controls are made visible instead.
    /// </summary>
    private static string WithoutLeadingControls(string text)
    {
        var leading = 0;
        while (leading < text.Length && text[leading] is <= ' ' or (>= '\u007f' and <= '\u009f'))
        {
            leading++;
        }

        var prefix = text.AsSpan(0, leading);
        if (!prefix.ContainsAnyExcept(' ', '\t'))
        {
            return text;
        }

        var blanks = new string([.. prefix.ToArray().Where(c => c is ' ' or '\t')]);
        return string.Concat(blanks, text.AsSpan(leading));
    }

    /// <summary>
    /// Characters that would let one user rewrite or disguise what others see become U+FFFD: control characters
    /// (tabs stay), format characters — bidirectional overrides and isolates, zero-width spaces and joiners,
    /// invisible tags — which reorder a terminal line or make one name look like another, and the line and paragraph
    /// separators U+2028 and U+2029, which break a line in some terminals and web views as a newline would.
    /// </summary>
    internal static string Sanitize(string text)
    {
        if (!text.EnumerateRunes().Any(IsUnsafe))
        {
            return text;
        }

        var visible = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            visible.Append(IsUnsafe(rune) ? "\uFFFD" : rune.ToString());
        }

        return visible.ToString();
    }

    private static bool IsUnsafe(Rune rune) =>
        rune.Value != '\t' && (Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune)
            is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
}
