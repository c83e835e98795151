using System.Text;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// How this server writes IRC lines: prefixes, numerics, and splitting a long text over several lines so that each
/// stays within IRC's 512 bytes. Every user is shown as <c>nick!~chat@host</c> (a full prefix, so a nick with a '.',
/// valid for line users, never passes for a server name).
/// </summary>
internal sealed class IrcLines(string serverName)
{
    /// <summary>IRC's line length, CRLF included; what a client may assume of what it reads.</summary>
    public const int MaxLineBytes = 512;

    public string ServerName { get; } = serverName;

    public string Prefix(string nick) => $"{nick}!~chat@{ServerName}";

    /// <summary>":server CODE target args… :last"; the last argument is always sent as a trailing one.</summary>
    public string Numeric(string code, string target, params ReadOnlySpan<string> args)
    {
        var line = new StringBuilder($":{ServerName} {code} {target}");
        for (var i = 0; i < args.Length; i++)
        {
            line.Append(i == args.Length - 1 ? " :" : " ").Append(args[i]);
        }

        return line.ToString();
    }

    public string Notice(string target, string text) => $":{ServerName} NOTICE {target} :{text}";

    public static byte[] Encode(string line) => Encoding.UTF8.GetBytes(line + "\r\n");

    /// <summary>Lines, each ending with CRLF, in one piece.</summary>
    public static byte[] Encode(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n")));

    /// <summary>
    /// "head :text" as one line or, when the text is too long for one, as several with the same head, split between
    /// characters (a line user may send up to the chat's MaxLineBytes; an IRC client reads 512).
    /// </summary>
    public static IEnumerable<string> Split(string head, string text, string lead = "", string tail = "")
    {
        var room = MaxLineBytes - 2 - Encoding.UTF8.GetByteCount(head) - 2 - Encoding.UTF8.GetByteCount(lead) - Encoding.UTF8.GetByteCount(tail);
        if (Encoding.UTF8.GetByteCount(text) <= room || room < 16)
        {
            yield return $"{head} :{lead}{text}{tail}";
            yield break;
        }

        var start = 0;
        while (start < text.Length)
        {
            var bytes = 0;
            var end = start;
            while (end < text.Length)
            {
                var width = char.IsSurrogatePair(text, end) ? 2 : 1;
                var size = Encoding.UTF8.GetByteCount(text.AsSpan(end, width));
                if (bytes + size > room)
                {
                    break;
                }

                bytes += size;
                end += width;
            }

            yield return $"{head} :{lead}{text[start..end]}{tail}";
            start = end;
        }
    }
}
