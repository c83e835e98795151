using System.Text;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Every line the chat server sends, in one place: the wording is documented in the README and kept stable.
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

    public static string PrivateTo(string nick, string text) => $"[msg to {nick}] {text}";

    public static string Who(string room, IEnumerable<string> nicks)
    {
        var list = nicks.Order(ChatNames.Comparer).ToList();
        return $"*** {room} ({list.Count}): {string.Join(", ", list)}";
    }

    public static string Rooms(IEnumerable<(string Name, int Members)> rooms)
    {
        var list = rooms.OrderBy(r => r.Name, ChatNames.Comparer).ToList();
        return $"*** Rooms ({list.Count}): {string.Join(", ", list.Select(r => $"{r.Name} ({r.Members})"))}";
    }

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
}
