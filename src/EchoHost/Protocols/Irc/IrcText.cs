using System.Text;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// What IRC text becomes in the chat and back: channels are rooms with '#' in front, IRC formatting codes (bold,
/// colours…) are removed, and what remains is made harmless as for line users (control and format characters become
/// U+FFFD). CTCP: <c>\x01ACTION …\x01</c> is <c>/me</c>.
/// </summary>
internal static class IrcText
{
    public const char Ctcp = '\u0001';

    public static string Channel(string room) => "#" + room;

    /// <summary>The room a channel names, or null when it is not a channel (no '#').</summary>
    public static string? Room(string channel) => channel.Length > 1 && channel[0] == '#' ? channel[1..] : null;

    /// <summary>The CTCP command and its argument if the text is a CTCP message, otherwise null.</summary>
    public static (string Command, string Argument)? AsCtcp(string text)
    {
        if (text.Length < 2 || text[0] != Ctcp)
        {
            return null;
        }

        var body = text.AsSpan(1).TrimEnd(Ctcp);
        var space = body.IndexOf(' ');
        return space < 0
            ? (body.ToString().ToUpperInvariant(), "")
            : (body[..space].ToString().ToUpperInvariant(), body[(space + 1)..].ToString());
    }

    /// <summary>The text as the chat carries it: formatting removed, the rest made harmless as for line users.</summary>
    public static string ToChat(string text) => ChatLineDecoder.Sanitize(WithoutFormatting(text));

    /// <summary>Removes mIRC formatting: bold, italics, underline, strike, monospace, reverse, reset, and colours with their numbers.</summary>
    public static string WithoutFormatting(string text)
    {
        if (!text.AsSpan().ContainsAny("\u0002\u0003\u0004\u000f\u0011\u0016\u001d\u001e\u001f"))
        {
            return text;
        }

        var plain = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\u0002' or '\u000f' or '\u0011' or '\u0016' or '\u001d' or '\u001e' or '\u001f':
                    break;
                case '\u0003':
                    i = SkipColour(text, i, char.IsAsciiDigit, 2);
                    break;
                case '\u0004':
                    i = SkipColour(text, i, char.IsAsciiHexDigit, 6);
                    break;
                default:
                    plain.Append(text[i]);
                    break;
            }
        }

        return plain.ToString();
    }

    /// <summary>Past "fg[,bg]" after a colour code at <paramref name="at"/>; returns the index of its last character.</summary>
    private static int SkipColour(string text, int at, Func<char, bool> digit, int width)
    {
        var i = Digits(text, at + 1, digit, width);
        if (i > at + 1 && i + 1 < text.Length && text[i] == ',' && digit(text[i + 1]))
        {
            i = Digits(text, i + 1, digit, width);
        }

        return i - 1;
    }

    private static int Digits(string text, int from, Func<char, bool> digit, int width)
    {
        var i = from;
        while (i < text.Length && i - from < width && digit(text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Whether <paramref name="name"/> is this room's name (rooms compare as nicks do: ASCII, any case).</summary>
    public static bool Same(string a, string b) => ChatNames.Comparer.Equals(a, b);
}
