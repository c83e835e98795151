using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// The registration burst a client waits for before it does anything (Ergo's server.go and ngIRCd's login.c send the
/// same): 001–004, the 005 ISUPPORT tokens, and the MOTD (375/372/376). The user then finds itself in #lobby, as a
/// line user does.
/// </summary>
internal sealed class IrcWelcome(IrcLines lines, string version)
{
    /// <summary>The longest topic kept; a longer one is cut.</summary>
    public const int TopicLength = ChatRoom.MaxTopicLength;

    private static readonly string[] Motd =
    [
        "Welcome to EchoHost chat over IRC.",
        "Rooms are channels (#lobby is lobby); nc and telnet users share them with you.",
        "You are in one channel at a time: joining one parts the other. You start in #lobby.",
    ];

    public IEnumerable<string> Lines(string nick)
    {
        var server = lines.ServerName;
        yield return lines.Numeric("001", nick, $"Welcome to the EchoHost IRC network, {lines.Prefix(nick)}");
        yield return lines.Numeric("002", nick, $"Your host is {server}, running version {version}");
        yield return lines.Numeric("003", nick, "This server speaks IRC to the EchoHost chat");
        yield return lines.Numeric("004", nick, server, version, "i", "b");
        yield return lines.Numeric("005", nick,
            "CASEMAPPING=ascii", "CHANTYPES=#", $"NICKLEN={ChatNames.MaxLength}", $"CHANNELLEN={ChatNames.MaxLength + 1}",
            "PREFIX=()", "NETWORK=EchoHost", "CHANLIMIT=#:1", $"TOPICLEN={TopicLength}", "CHANMODES=b,,,", "MAXTARGETS=1",
            "are supported by this server");
        foreach (var line in MessageOfTheDay(nick))
        {
            yield return line;
        }
    }

    /// <summary>The MOTD alone: 375, 372 per line, 376 (the MOTD command's answer too).</summary>
    public IEnumerable<string> MessageOfTheDay(string nick)
    {
        yield return lines.Numeric("375", nick, $"- {lines.ServerName} Message of the day -");
        foreach (var line in Motd)
        {
            yield return lines.Numeric("372", nick, $"- {line}");
        }

        yield return lines.Numeric("376", nick, "End of /MOTD command.");
    }
}
