using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// The chat's events as IRC lines. One instance per set of capabilities a client may have asked for
/// (<c>server-time</c>, <c>echo-message</c>), shared by every IRC user with that set, so a room's fan-out renders an
/// event once per set. Numerics about the user's own commands that the core sends name the user <c>*</c> (the
/// renderer is shared; the nick is not known here), which clients accept.
/// </summary>
internal sealed class IrcRenderer(IrcLines lines, IrcWelcome welcome, bool serverTime, bool echoMessage) : IChatRenderer
{
    // Notices that carry a line-protocol text (help, history without server-time…) use its wording.
    private static readonly ChatLineRenderer LineText = new(int.MaxValue);

    public bool ServerTime { get; } = serverTime;

    public bool EchoMessage { get; } = echoMessage;

    public byte[] Render(ChatEvent chatEvent) => IrcLines.Encode(Lines(chatEvent));

    public IEnumerable<string> Lines(ChatEvent e) => e.Kind switch
    {
        ChatEventKind.Message => IrcLines.Split($":{lines.Prefix(e.Nick)} PRIVMSG {IrcText.Channel(e.Room)}", e.Text),
        ChatEventKind.Action => Action($":{lines.Prefix(e.Nick)} PRIVMSG {IrcText.Channel(e.Room)}", e.Text),
        ChatEventKind.Joined => [$":{lines.Prefix(e.Nick)} JOIN {IrcText.Channel(e.Room)}"],
        // A move to another room is a PART; leaving the chat is a QUIT (a user is in one room at a time).
        ChatEventKind.Left when e.Text.StartsWith("joined ", StringComparison.Ordinal) =>
            [$":{lines.Prefix(e.Nick)} PART {IrcText.Channel(e.Room)} :{e.Text}"],
        ChatEventKind.Left => [$":{lines.Prefix(e.Nick)} QUIT :{e.Text}"],
        ChatEventKind.NickChanged => [$":{lines.Prefix(e.Nick)} NICK :{e.Other}"],
        ChatEventKind.PrivateFrom => Private($":{lines.Prefix(e.Nick)} PRIVMSG {Target(e.Other)}", e.Nick, e.Text),
        ChatEventKind.PrivateTo => EchoMessage ? Private($":{lines.Prefix(Target(e.Other))} PRIVMSG {e.Nick}", e.Other, e.Text) : [],
        ChatEventKind.TopicChanged => [$":{lines.Prefix(e.Nick)} TOPIC {IrcText.Channel(e.Room)} :{e.Text}"],
        ChatEventKind.Welcome => welcome.Lines(e.Nick),
        ChatEventKind.Entering => Entering(e),
        ChatEventKind.Topic => Topic("*", e.Room, e.RoomTopic, whenNone: true),
        ChatEventKind.History => History(e),
        ChatEventKind.NickLost =>
            [$":{lines.Prefix(e.Nick)} NICK :{e.Other}", lines.Notice(e.Other, LineText.Text(e))],
        ChatEventKind.NickRefused when e.Text == "it is taken" => [lines.Numeric("433", "*", e.Nick, "Nickname is already in use")],
        ChatEventKind.NickRefused => [lines.Numeric("432", "*", e.Nick, $"Erroneous nickname: {e.Text}")],
        ChatEventKind.RoomRefused => [lines.Numeric("479", "*", IrcText.Channel(e.Room), $"Cannot join channel: {e.Text}")],
        ChatEventKind.NoSuchNick => [lines.Numeric("401", "*", e.Nick, "No such nick/channel")],
        ChatEventKind.ServerFull => [$"ERROR :{LineText.Text(e)[4..]}"],
        // Shown elsewhere on IRC (the JOIN, the NICK the handler sends) or not at all.
        ChatEventKind.YouJoined or ChatEventKind.YouAreNow or ChatEventKind.HistoryHeader or ChatEventKind.AlreadyInRoom
            or ChatEventKind.Goodbye => [],
        _ => [lines.Notice("*", LineText.Text(e))],
    };

    /// <summary>The burst of a channel entered: the PART of the room left, the JOIN, and the topic (RPL_TOPIC, or RPL_NOTOPIC).</summary>
    private IEnumerable<string> Entering(ChatEvent e)
    {
        if (e.Other.Length > 0)
        {
            yield return $":{lines.Prefix(e.Nick)} PART {IrcText.Channel(e.Other)} :joined {e.Room}";
        }

        yield return $":{lines.Prefix(e.Nick)} JOIN {IrcText.Channel(e.Room)}";
        foreach (var line in Topic(e.Nick, e.Room, e.RoomTopic, whenNone: true))
        {
            yield return line;
        }
    }

    public IEnumerable<string> Topic(string me, string room, ChatTopic? topic, bool whenNone)
    {
        if (topic is null)
        {
            return whenNone ? [lines.Numeric("331", me, IrcText.Channel(room), "No topic is set")] : [];
        }

        return
        [
            lines.Numeric("332", me, IrcText.Channel(room), topic.Text),
            lines.Numeric("333", me, IrcText.Channel(room), lines.Prefix(topic.By), topic.At.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
    }

    /// <summary>
    /// A remembered message: with <c>server-time</c>, the message as it was, tagged with when it was said; otherwise a
    /// notice from the server to the channel with its time, in the line protocol's words.
    /// </summary>
    private IEnumerable<string> History(ChatEvent e)
    {
        var said = e.Inner!;
        if (ServerTime && said.Kind is ChatEventKind.Message or ChatEventKind.Action or ChatEventKind.TopicChanged)
        {
            var time = $"@time={e.At.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} ";
            return Lines(said).Select(line => time + line);
        }

        var target = said.Room.Length > 0 ? IrcText.Channel(said.Room) : "*";
        return IrcLines.Split($":{lines.ServerName} NOTICE {target}", LineText.Text(e));
    }

    private static IEnumerable<string> Action(string head, string text) => IrcLines.Split(head, text, $"{IrcText.Ctcp}ACTION ", $"{IrcText.Ctcp}");

    /// <summary>A private message; a private /me ("* nick does", as the chat carries it) is a CTCP ACTION again.</summary>
    private static IEnumerable<string> Private(string head, string sender, string text) =>
        text.StartsWith($"* {sender} ", StringComparison.Ordinal) ? Action(head, text[(sender.Length + 3)..]) : IrcLines.Split(head, text);

    private static string Target(string nick) => nick.Length > 0 ? nick : "*";
}
