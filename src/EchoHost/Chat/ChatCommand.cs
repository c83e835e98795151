namespace EchoHost.Chat;

internal enum ChatCommandKind
{
    /// <summary>Not a command: a message for the room (an empty line is ignored).</summary>
    Say,
    Quit,
    Nick,
    Who,
    Rooms,
    Join,
    Msg,
    Me,
    Help,
    /// <summary>A command that exists but was given the wrong arguments.</summary>
    Usage,
    Unknown,
}

/// <summary>One parsed chat line. <see cref="Argument"/> is the name or text; <see cref="Text"/> the message of /msg.</summary>
internal readonly record struct ChatCommand(ChatCommandKind Kind, string Argument = "", string Text = "")
{
    public const string EndOfSession = "%end%";

    public static ChatCommand Parse(string line)
    {
        var trimmed = line.Trim();
        if (trimmed == EndOfSession)
        {
            return new(ChatCommandKind.Quit);
        }

        if (!trimmed.StartsWith('/'))
        {
            return new(ChatCommandKind.Say, line);
        }

        // "//text" sends "/text" as a message, as in IRC clients.
        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return new(ChatCommandKind.Say, trimmed[1..]);
        }

        var space = trimmed.IndexOfAny([' ', '\t']);
        var name = (space < 0 ? trimmed[1..] : trimmed[1..space]).ToLowerInvariant();
        var rest = space < 0 ? string.Empty : trimmed[(space + 1)..].Trim();
        return name switch
        {
            "quit" => new(ChatCommandKind.Quit, rest),
            "who" => new(ChatCommandKind.Who),
            "rooms" => new(ChatCommandKind.Rooms),
            "help" => new(ChatCommandKind.Help),
            "nick" => OneWord(ChatCommandKind.Nick, rest, "/nick NAME"),
            "join" => OneWord(ChatCommandKind.Join, rest, "/join ROOM"),
            "me" => rest.Length == 0 ? Usage("/me ACTION") : new(ChatCommandKind.Me, rest),
            "msg" => ParseMsg(rest),
            _ => new(ChatCommandKind.Unknown, "/" + name),
        };
    }

    private static ChatCommand OneWord(ChatCommandKind kind, string rest, string usage) =>
        rest.Length == 0 || rest.Contains(' ') || rest.Contains('\t') ? Usage(usage) : new(kind, rest);

    private static ChatCommand ParseMsg(string rest)
    {
        var space = rest.IndexOfAny([' ', '\t']);
        if (space <= 0 || rest[(space + 1)..].Trim().Length == 0)
        {
            return Usage("/msg NICK TEXT");
        }

        return new(ChatCommandKind.Msg, rest[..space], rest[(space + 1)..].Trim());
    }

    private static ChatCommand Usage(string usage) => new(ChatCommandKind.Usage, usage);
}
