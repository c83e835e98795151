namespace EchoHost.Protocols.Chat;

/// <summary>What a chat listener sends a user who joins, before the user says anything (the listener's <c>Greeting</c>).</summary>
public enum GreetingMode
{
    /// <summary>The welcome line, the room's recent messages and the room the user is now in.</summary>
    Full,

    /// <summary>
    /// The welcome line alone: one line, for a lock-step client that prints one line, then sends one (the socket
    /// tutorials' chat client). The room still hears the user join.
    /// </summary>
    Minimal,
}
