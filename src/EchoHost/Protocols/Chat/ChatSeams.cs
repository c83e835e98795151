namespace EchoHost.Protocols.Chat;

/// <summary>Where a user's lines go: the chat core only ever enqueues encoded lines, and never waits.</summary>
internal interface IChatOutbox
{
    /// <summary>Queues one encoded line; false when the user can take no more (a slow reader being disconnected).</summary>
    bool TryEnqueue(byte[] line);

    /// <summary>
    /// Queues one encoded line only if no more than <paramref name="limit"/> bytes would then wait for the user;
    /// false otherwise, and the user is not cut for it (what others may queue for one user: private messages).
    /// </summary>
    bool TryEnqueueWithin(byte[] line, long limit);
}

/// <summary>
/// What the chat counts, for whoever watches: the telemetry adapter (<see cref="ChatMetrics"/>) in the host, a
/// recorder in tests. Called under the chat server's lock: implementations must be quick and never call back.
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
