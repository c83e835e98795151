using System.Text;
using System.Text.Unicode;
using EchoHost.Protocols.Chat;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// Turns a connection's bytes into IRC lines: each ends with LF, CRLF or a bare CR. A line longer than
/// <c>maxLineBytes</c> (its line ending included, as IRC counts) is reported once and discarded up to its end, so a
/// line without an end never grows memory; IRCv3 message tags may add <see cref="TagBytes"/> more. A line that is not
/// UTF-8 is reported and dropped. Text is not made harmless here: CTCP uses a control character, so that is done on
/// the message text once the command is known. State carries across calls; one decoder per connection.
/// </summary>
internal sealed class IrcLineDecoder(int maxLineBytes) : LineFramer(maxLineBytes - 2 + TagBytes)
{
    /// <summary>What IRCv3 allows a client's tags besides the line itself.</summary>
    public const int TagBytes = 4096;

    public override void Decode(ReadOnlySpan<byte> bytes, List<ChatInput> output)
    {
        foreach (var b in bytes)
        {
            if (!TryEndLine(b, output))
            {
                Append(b, output);
            }
        }
    }

    protected override void OnLine(ReadOnlySpan<byte> line, List<ChatInput> output)
    {
        if (line.IsEmpty)
        {
            return;
        }

        // Tags have their own allowance; the rest of the line has IRC's.
        var tags = line[0] == '@' ? Math.Max(0, line.IndexOf((byte)' ')) : 0;
        if (tags > TagBytes || line.Length - tags - (tags > 0 ? 1 : 0) > maxLineBytes - 2)
        {
            output.Add(ChatInput.TooLong);
            return;
        }

        output.Add(Utf8.IsValid(line) ? ChatInput.Line(Encoding.UTF8.GetString(line)) : ChatInput.InvalidUtf8);
    }
}
