using System.Text;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Every line the line protocol sends (<see cref="ChatLineRenderer"/> picks one per event), in one place: the wording
/// is documented in docs/protocols.md and kept stable.
/// Server notices start with <c>***</c>, errors with <c>!!!</c>; every line ends with CRLF.
/// </summary>
internal static class ChatMessages
{
    public static byte[] Encode(string line) => Encoding.UTF8.GetBytes(line + "\r\n");

    public static string Welcome(string nick) => $"*** Welcome to EchoHost chat, {nick}! /help lists commands, %end% leaves.";

    public static string HistoryHeader(string room) => $"*** Recent messages in {room}:";

    public static string HistoryEntry(DateTimeOffset at, string line) => $"[{at.UtcDateTime:HH:mm:ss}] {line}";

    public static string Joined(string nick, string room) => $"*** {nick} joined {room}";

    public static string Left(string nick, string room, string why) => $"*** {nick} left {room} ({why})";

    public static string YouJoined(string room, int members) => $"*** You are now in {room} ({members} here)";

    public static string NickChanged(string oldNick, string newNick) => $"*** {oldNick} is now known as {newNick}";

    public static string YouAreNow(string nick) => $"*** You are now known as {nick}";

    public static string NickLostInOutage(string nick, string newNick) =>
        $"!!! Your nick {nick} was taken on another server while the servers could not reach each other; you are now known as {newNick}.";

    public static string Message(string nick, string text) => $"<{nick}> {text}";

    public static string Action(string nick, string text) => $"* {nick} {text}";

    public static string PrivateFrom(string nick, string text) => $"[msg from {nick}] {text}";

    public static string TopicChanged(string nick, string room, string topic) =>
        topic.Length == 0 ? $"*** {nick} cleared the topic of {room}" : $"*** {nick} set the topic of {room}: {topic}";

    public static string Topic(string room, string? topic, string? by) =>
        topic is null ? $"*** {room} has no topic; /topic TEXT sets one." : $"*** Topic of {room}: {topic} (set by {by})";

    public static string PrivateTo(string nick, string text) => $"[msg to {nick}] {text}";

    /// <summary>
    /// <c>/who</c>'s answer, one line per page: a page is at most <paramref name="maxBytes"/> long as sent (but holds
    /// at least one name), so an answer to a user's own command always fits in that user's queue.
    /// </summary>
    public static IReadOnlyList<string> Who(string room, IEnumerable<string> nicks, int maxBytes = int.MaxValue) =>
        Pages(room, "/who", nicks.Order(ChatNames.Comparer).ToList(), maxBytes);

    /// <summary><c>/rooms</c>'s answer, paged as <see cref="Who"/>.</summary>
    public static IReadOnlyList<string> Rooms(IEnumerable<(string Name, int Members)> rooms, int maxBytes = int.MaxValue) =>
        Pages("Rooms", "/rooms", rooms.OrderBy(r => r.Name, ChatNames.Comparer).Select(r => $"{r.Name} ({r.Members})").ToList(), maxBytes);

    public static string NoSuchPage(string command, int page, int pages) => $"!!! There is no page {page}: {command} has {pages}.";

    /// <summary>
    /// "*** title (count): a, b" for page 1, "*** title (count), page 2: c, d" after; a page that is not the last ends
    /// with "... and N more; /command 3 for the next page".
    /// </summary>
    private static List<string> Pages(string title, string command, List<string> items, int maxBytes)
    {
        var pages = new List<string>();
        var start = 0;
        do
        {
            var number = pages.Count + 1;
            var line = new StringBuilder(number == 1 ? $"*** {title} ({items.Count}): " : $"*** {title} ({items.Count}), page {number}: ");
            var bytes = Encoding.UTF8.GetByteCount(line.ToString()) + 2;
            var end = start;
            while (end < items.Count)
            {
                var next = (end > start ? ", " : "") + items[end];
                var nextBytes = Encoding.UTF8.GetByteCount(next);
                var rest = items.Count - end - 1;
                var tailBytes = rest > 0 ? Encoding.UTF8.GetByteCount(More(rest, command, number)) : 0;
                if (end > start && bytes + nextBytes + tailBytes > maxBytes)
                {
                    break;
                }

                line.Append(next);
                bytes += nextBytes;
                end++;
            }

            if (end < items.Count)
            {
                line.Append(More(items.Count - end, command, number));
            }

            pages.Add(line.ToString());
            start = end;
        }
        while (start < items.Count);

        return pages;
    }

    private static string More(int rest, string command, int page) => $" ... and {rest} more; {command} {page + 1} for the next page";

    /// <summary>
    /// The last line of every session, whatever ended it: the classic socket tutorials' end marker (their chat client
    /// ends when it receives it), as <c>%end%</c> alone is also the way a user leaves.
    /// </summary>
    public static string EndOfSession => ChatCommands.EndOfSession;

    public static string Goodbye(string nick) => $"*** Goodbye, {nick}!";

    public static string ShuttingDown => "*** Server is shutting down. Goodbye!";

    public static string IdleTimeout(TimeSpan idle) => $"*** Idle for {idle}; disconnecting.";

    public static string SlowReader => "!!! You are not reading fast enough; disconnecting.";

    public static string ServerFull(int maxUsers) => $"!!! Server full ({maxUsers} users); try again later.";

    public static string Flood => "!!! Flood control: slow down; lines are being dropped.";

    public static string NotShared => "!!! The other servers are behind: slow down; your lines reach only this server's users for now.";

    public static string TooLong(int maxBytes) => $"!!! Line too long (max {maxBytes} bytes); discarded.";

    public static string InvalidUtf8 => "!!! Line is not valid UTF-8; discarded.";

    public static string UnknownCommand(string command) => $"!!! Unknown command {command}; /help lists commands.";

    public static string Usage(string usage) => $"!!! Usage: {usage}";

    public static string NickRefused(string nick, string why) => $"!!! Cannot use nick '{nick}': {why}.";

    public static string RoomRefused(string room, string why) => $"!!! Cannot join '{room}': {why}.";

    public static string AlreadyInRoom(string room) => $"!!! You are already in {room}.";

    public static string NoSuchNick(string nick) => $"!!! No user named '{nick}'.";

    public static string NotKeepingUp(string nick) => $"!!! {nick} is not keeping up; message not delivered.";

    public static string HelpHeader => "*** Commands:";

    public static string HelpEntry(string syntax, string help) => $"***   {syntax,-16} {help}";

    public static string HelpFooter => "*** Anything else is sent to everyone in your room.";
}
