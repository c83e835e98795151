using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The log lines of what chat users do, for one listener: the core reports what happened (<see cref="IChatActivityLog"/>)
/// and this writes it with the listener's name, in the wording the chat always used. The session's own lines (arrival,
/// departure, a full server, a nick held) are here too.
/// </summary>
internal sealed partial class ChatActivityLog(string listener, ILogger logger) : IChatActivityLog
{
    /// <summary>The chat's log category from before the core had a folder of its own: log filters and JSON lines stay as they were.</summary>
    public const string Category = "EchoHost.Protocols.Chat.ChatServer";

    private readonly ILogger _logger = logger;

    public void NickChanged(string oldNick, string nick) => LogNickChanged(listener, oldNick, nick);

    public void Moved(string nick, string fromRoom, string room) => LogMoved(listener, nick, fromRoom, room);

    public void TooManyRooms(string nick, string room, int maxRooms) => LogTooManyRooms(listener, nick, room, maxRooms);

    public void Message(string nick, string room, string text) => LogMessage(listener, nick, room, text);

    public void Private(string nick, string target, string text) => LogPrivate(listener, nick, target, text);

    public void PrivatesRefused(string nick, int limit) => LogPrivatesRefused(listener, nick, limit);

    public void Arrived(string nick, string room, string remoteEndPoint) => LogArrived(listener, nick, room, remoteEndPoint);

    public void Left(string nick, string? room, string reason) => LogLeft(listener, nick, room, reason);

    public void ServerFull(string connectionId, int maxUsers) => LogServerFull(listener, connectionId, maxUsers);

    public void NickHeld(string nick, string address, TimeSpan hold) => LogNickHeld(listener, nick, address, hold);

    /// <summary>The log lines of a session's departure, if it left a room: the nick held after a cut, if it is, then the room left.</summary>
    public void Departed(ChatUser user, ChatDeparture? departure, string why, TimeSpan nickHold)
    {
        if (departure is not { } left)
        {
            return;
        }

        if (left.NickHeld)
        {
            NickHeld(user.Nick, user.Address ?? "-", nickHold);
        }

        Left(user.Nick, left.Room, why);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} joined {Room} from {RemoteEndPoint}")]
    private partial void LogArrived(string listener, string nick, string room, string remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} left {Room} ({Reason})")]
    private partial void LogLeft(string listener, string nick, string? room, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {OldNick} is now {Nick}")]
    private partial void LogNickChanged(string listener, string oldNick, string nick);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} moved from {FromRoom} to {Room}")]
    private partial void LogMoved(string listener, string nick, string fromRoom, string room);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: refused connection {ConnectionId}: server full (MaxUsers = {MaxUsers})")]
    private partial void LogServerFull(string listener, string connectionId, int maxUsers);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} could not create room {Room}: MaxRooms = {MaxRooms} reached")]
    private partial void LogTooManyRooms(string listener, string nick, string room, int maxRooms);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} chat: <{Nick}> in {Room}: {Text}")]
    private partial void LogMessage(string listener, string nick, string room, string text);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} chat: {Nick} to {Target}: {Text}")]
    private partial void LogPrivate(string listener, string nick, string target, string text);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: refusing private messages to {Nick}: it is not keeping up (MaxQueuedPrivateBytes = {MaxQueuedPrivateBytes}); their senders are told")]
    private partial void LogPrivatesRefused(string listener, string nick, int maxQueuedPrivateBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: holding the nick {Nick} for {Hold} after a slow-reader cut; only {Address} may take it meanwhile")]
    private partial void LogNickHeld(string listener, string nick, string address, TimeSpan hold);
}
