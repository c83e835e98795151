namespace EchoHost.Protocols.Chat.Core;

/// <summary>Where a user's bytes go: the chat core only ever enqueues what the user's renderer made, and never waits.</summary>
internal interface IChatOutbox
{
    /// <summary>Queues one rendered event; false when the user can take no more (a slow reader being disconnected).</summary>
    bool TryEnqueue(byte[] line);

    /// <summary>
    /// Queues one rendered event only if no more than <paramref name="limit"/> bytes would then wait for the user;
    /// false otherwise, and the user is not cut for it (what others may queue for one user: private messages).
    /// </summary>
    bool TryEnqueueWithin(byte[] line, long limit);
}

/// <summary>
/// Turns events into what one kind of client reads (the line protocol: UTF-8 text and CRLF). One instance is shared
/// by every user of its kind, so a fan-out renders an event once per kind, not once per recipient. Called under the
/// chat's lock: quick, and never calls back.
/// </summary>
internal interface IChatRenderer
{
    byte[] Render(ChatEvent chatEvent);
}

/// <summary>
/// What the chat counts, for whoever watches: the telemetry adapter (<c>ChatMetrics</c>) in the host, a recorder in
/// tests. Called under the chat server's lock: implementations must be quick and never call back.
/// </summary>
internal interface IChatObserver
{
    void UserJoined();

    void UserLeft();

    void RoomOpened();

    void RoomClosed();

    /// <summary>A message was queued for <paramref name="recipients"/> users.</summary>
    void Delivered(int recipients);

    void LineDropped(ChatLineDropReason reason);

    void SlowReaderDisconnected();
}

/// <summary>
/// What happens to rooms, which belong to no user: opened (by a user, whose observer is given), closed, and messages
/// from other instances delivered in them. The host decides whose counts these are. Called under the chat's lock.
/// </summary>
internal interface IChatRoomCounts
{
    void Opened(string room, IChatObserver openedBy);

    void Closed(string room);

    /// <summary>A message from another instance was queued for <paramref name="recipients"/> users in the room.</summary>
    void Delivered(string room, int recipients);
}

/// <summary>
/// What a user did, for the operator's log: the client kind's session writes the log lines, with what it knows of the
/// connection (its listener), so the core's API carries no values that exist only for log lines.
/// </summary>
internal interface IChatActivityLog
{
    void NickChanged(string oldNick, string nick);

    void Moved(string nick, string fromRoom, string room);

    void TooManyRooms(string nick, string room, int maxRooms);

    void Message(string nick, string room, string text);

    void Private(string nick, string target, string text);

    /// <summary>Private messages to this user are refused from now on (its queue is past <paramref name="limit"/>).</summary>
    void PrivatesRefused(string nick, int limit);
}

/// <summary>One connected client as the core sees it: where its bytes go, how its kind renders, what counts and logs it.</summary>
internal sealed record ChatSession(IChatOutbox Outbox, IChatRenderer Renderer, IChatObserver Observer, IChatActivityLog Log);
