namespace EchoHost.Protocols.Chat.Core;

/// <summary>What the session does after a line: go on reading, or end (the user quit).</summary>
internal enum ChatOutcome
{
    Continue,
    Quit,
}

/// <summary>
/// One chat command: its name, how it is written, its line in <c>/help</c> (every command has one: a newcomer who
/// typed <c>/help</c> learns from the list that it exists), and what it does. Adding a command is adding one entry to
/// <see cref="ChatCommands.All"/>.
/// </summary>
internal sealed record ChatCommand(string Name, string Syntax, string Help, Func<ChatServer, ChatUser, string, ValueTask<ChatOutcome>> Run);

/// <summary>
/// Every chat command in one registry, the way ssh-chat keeps them: a line is a command when it starts with <c>/</c>;
/// <c>//text</c> sends <c>/text</c>; <c>%end%</c> alone is the classic way to leave; anything else is said to the room.
/// </summary>
internal static class ChatCommands
{
    public const string EndOfSession = "%end%";

    public static IReadOnlyList<ChatCommand> All { get; } =
    [
        new("nick", "/nick NAME", "change your nick (1-24 letters, digits, _ - .)",
            (server, user, args) => OneWord(user, args, "/nick NAME", name => server.ChangeNickAsync(user, name))),
        new("join", "/join ROOM", "move to ROOM (created if new)",
            (server, user, args) => OneWord(user, args, "/join ROOM", room => server.JoinAsync(user, room))),
        new("who", "/who [PAGE]", "who is in this room",
            (server, user, args) => Page(user, args, "/who [PAGE]", page => server.WhoAsync(user, page))),
        new("rooms", "/rooms [PAGE]", "list rooms",
            (server, user, args) => Page(user, args, "/rooms [PAGE]", page => server.ListRoomsAsync(user, page))),
        new("topic", "/topic [TEXT]", "show or set this room's topic",
            (server, user, args) => Done(() =>
            {
                if (args.Length == 0)
                {
                    server.ShowTopic(user);
                }
                else
                {
                    server.SetTopic(user, args);
                }
            })),
        new("msg", "/msg NICK TEXT", "private message", (server, user, args) => PrivateMessage(server, user, args)),
        new("me", "/me ACTION", "* nick does ACTION",
            (server, user, args) => args.Length == 0 ? Usage(user, "/me ACTION") : Done(() => server.Act(user, args))),
        new("quit", $"/quit or {EndOfSession}", "leave", (_, user, _) => ValueTask.FromResult(Quit(user))),
        new("help", "/help", "list these commands", (_, user, _) => Done(() => SendHelp(user))),
    ];

    /// <summary><c>/help</c>'s answer, generated from the registry: a header, one entry per command, a footer.</summary>
    public static IReadOnlyList<ChatEvent> Help { get; } =
    [
        ChatEvent.HelpHeader,
        .. All.Select(c => ChatEvent.HelpEntry(c.Syntax, c.Help)),
        ChatEvent.HelpEntry("//text", "send a line that starts with /"),
        ChatEvent.HelpFooter,
    ];

    private static readonly Dictionary<string, ChatCommand> ByName = All.ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the line ends the session. Leaving is never refused, not even by flood control.</summary>
    public static bool IsQuit(string line)
    {
        var trimmed = line.Trim();
        return trimmed == EndOfSession || (Split(trimmed) is { } command && command.Name.Equals("quit", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Runs one line from <paramref name="user"/>: a command, or a message to the room.</summary>
    public static ValueTask<ChatOutcome> Execute(ChatServer server, ChatUser user, string line)
    {
        var trimmed = line.Trim();
        if (trimmed == EndOfSession)
        {
            return ValueTask.FromResult(Quit(user));
        }

        if (!trimmed.StartsWith('/'))
        {
            return string.IsNullOrWhiteSpace(line) ? Continue : Done(() => server.Say(user, line));
        }

        // "//text" sends "/text" as a message, as in IRC clients.
        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return Done(() => server.Say(user, trimmed[1..]));
        }

        var (name, args) = Split(trimmed)!.Value;
        if (!ByName.TryGetValue(name, out var command))
        {
            user.Send(ChatEvent.UnknownCommand("/" + name.ToLowerInvariant()));
            return Continue;
        }

        return command.Run(server, user, args);
    }

    /// <summary>"/name rest" → its name and its arguments, trimmed; null when the line is not a command.</summary>
    private static (string Name, string Args)? Split(string trimmed)
    {
        if (!trimmed.StartsWith('/') || trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return null;
        }

        var space = trimmed.IndexOfAny([' ', '\t']);
        return space < 0 ? (trimmed[1..], string.Empty) : (trimmed[1..space], trimmed[(space + 1)..].Trim());
    }

    private static ChatOutcome Quit(ChatUser user)
    {
        user.Send(ChatEvent.Goodbye(user.Nick));
        return ChatOutcome.Quit;
    }

    private static void SendHelp(ChatUser user)
    {
        foreach (var entry in Help!)
        {
            user.Send(entry);
        }
    }

    private static readonly ValueTask<ChatOutcome> Continue = ValueTask.FromResult(ChatOutcome.Continue);

    private static ValueTask<ChatOutcome> OneWord(ChatUser user, string args, string usage, Func<string, ValueTask> run) =>
        args.Length == 0 || args.Contains(' ') || args.Contains('\t') ? Usage(user, usage) : Done(run(args));

    /// <summary>A listing's page: none given is the first; a long answer comes in pages that each fit one line.</summary>
    private static ValueTask<ChatOutcome> Page(ChatUser user, string args, string usage, Func<int, ValueTask> run)
    {
        if (args.Length == 0)
        {
            return Done(run(1));
        }

        return int.TryParse(args, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var page) && page >= 1
            ? Done(run(page))
            : Usage(user, usage);
    }

    private static ValueTask<ChatOutcome> PrivateMessage(ChatServer server, ChatUser user, string args)
    {
        var space = args.IndexOfAny([' ', '\t']);
        if (space <= 0 || args[(space + 1)..].Trim().Length == 0)
        {
            return Usage(user, "/msg NICK TEXT");
        }

        return Done(server.PrivateMessageAsync(user, args[..space], args[(space + 1)..].Trim()));
    }

    private static ValueTask<ChatOutcome> Usage(ChatUser user, string usage)
    {
        user.Send(ChatEvent.Usage(usage));
        return Continue;
    }

    private static ValueTask<ChatOutcome> Done(Action action)
    {
        action();
        return Continue;
    }

    /// <summary>Continue once <paramref name="pending"/> is done (synchronously, with no allocation, when it already is).</summary>
    private static async ValueTask<ChatOutcome> Done(ValueTask pending)
    {
        await pending;
        return ChatOutcome.Continue;
    }
}
