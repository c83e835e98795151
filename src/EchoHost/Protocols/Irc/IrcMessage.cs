namespace EchoHost.Protocols.Irc;

/// <summary>
/// One IRC line from a client, parsed (RFC 1459 section 2.3, IRCv3 message tags): its tags and prefix are skipped (a
/// client's own are meaningless to this server), the command upper-cased, and its parameters split, the last one
/// after " :" kept whole.
/// </summary>
internal sealed record IrcMessage(string Command, IReadOnlyList<string> Params)
{
    /// <summary>At most this many parameters, as RFC 1459 says; the rest stays in the last one.</summary>
    private const int MaxParams = 15;

    public string this[int index] => Params[index];

    public int Count => Params.Count;

    /// <summary>The message in <paramref name="line"/>, or null when the line holds no command (empty, only tags or prefix).</summary>
    public static IrcMessage? Parse(string line)
    {
        var rest = line.AsSpan().TrimStart(' ');
        if (rest.StartsWith("@"))
        {
            rest = SkipWord(rest);
        }

        if (rest.StartsWith(":"))
        {
            rest = SkipWord(rest);
        }

        var end = rest.IndexOf(' ');
        var command = (end < 0 ? rest : rest[..end]).ToString().ToUpperInvariant();
        if (command.Length == 0)
        {
            return null;
        }

        rest = end < 0 ? [] : rest[end..];
        var parameters = new List<string>();
        while (true)
        {
            rest = rest.TrimStart(' ');
            if (rest.IsEmpty)
            {
                break;
            }

            if (rest[0] == ':' || parameters.Count == MaxParams - 1)
            {
                parameters.Add((rest[0] == ':' ? rest[1..] : rest).ToString());
                break;
            }

            end = rest.IndexOf(' ');
            parameters.Add((end < 0 ? rest : rest[..end]).ToString());
            rest = end < 0 ? [] : rest[end..];
        }

        return new IrcMessage(command, parameters);
    }

    private static ReadOnlySpan<char> SkipWord(ReadOnlySpan<char> text)
    {
        var end = text.IndexOf(' ');
        return end < 0 ? [] : text[end..].TrimStart(' ');
    }
}
