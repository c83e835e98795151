namespace EchoHost.Protocols.Chat.Core;

/// <summary><c>EchoHost:Chat</c>: the limits of the chat protocol, shared by every chat listener.</summary>
public sealed class ChatOptions
{
    /// <summary>
    /// What a delivered line can add to its text, at most: the sender's nick and punctuation, a history timestamp,
    /// CRLF. With <see cref="MaxLineBytes"/> bounding the text as delivered, a line costs at most the two together.
    /// </summary>
    internal const int LineOverheadBytes = 64;

    /// <summary>
    /// Longest line accepted, in bytes without the line ending, as delivered (characters made visible as U+FFFD
    /// count as three); a longer line is discarded with a notice.
    /// </summary>
    public int MaxLineBytes { get; set; } = 2048;

    /// <summary>Lines a user may send at once before flood control drops lines.</summary>
    public int FloodBurst { get; set; } = 20;

    /// <summary>Lines per second added back to a user's allowance.</summary>
    public double FloodLinesPerSecond { get; set; } = 5;

    /// <summary>Bytes waiting to be sent to one user before that user is disconnected as a slow reader.</summary>
    public int MaxQueuedBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Bytes that may wait for a user before private messages to that user are refused to their senders (who are
    /// told), instead of being queued: what others send on their own initiative cannot fill a user's queue and get it
    /// cut as a slow reader. Unset: a quarter of <see cref="MaxQueuedBytes"/>.
    /// </summary>
    public int? MaxQueuedPrivateBytes { get; set; }

    /// <summary>
    /// How long the nick of a user cut as a slow reader stays held: nobody else may take it meanwhile (on any
    /// instance), but a connection from the same client address may. 0 releases it at once.
    /// </summary>
    public TimeSpan SlowReaderNickHold { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><see cref="MaxQueuedPrivateBytes"/> as it applies.</summary>
    internal int PrivateQueueLimit => MaxQueuedPrivateBytes ?? MaxQueuedBytes / 4;

    /// <summary>Messages per room replayed to a user who joins it.</summary>
    public int HistorySize { get; set; } = 20;

    /// <summary>Idle timeout of chat listeners that do not set their own <c>IdleTimeout</c>; 0 turns it off.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Users connected at once across every chat listener.</summary>
    public int MaxUsers { get; set; } = 10_000;

    /// <summary>Rooms that may exist at once, <c>lobby</c> included.</summary>
    public int MaxRooms { get; set; } = 1_000;

    /// <summary>
    /// An Npgsql connection string: when set, every instance using the same database shares rooms, nicks, membership
    /// and history (the scale-out backplane). Empty keeps the chat in this process only.
    /// </summary>
    public string Postgres { get; set; } = "";

    /// <summary>
    /// How long the backplane waits for PostgreSQL to answer one operation (a statement, a batch, a connection
    /// attempt, a check of the LISTEN connection). Beyond it the database counts as unreachable: the operation is left
    /// to finish on its own on a connection that is not used again, users get the outage answers, and the backplane
    /// reconnects. A chat user never waits on the database longer than this.
    /// </summary>
    public TimeSpan PostgresTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The longest <see cref="PostgresTimeout"/> accepted.</summary>
    internal static readonly TimeSpan PostgresMaxTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The NOTIFY size budget, defined once: PostgreSQL's NOTIFY payload must be shorter than 8000 bytes. The
    /// backplane packs several events into one payload up to it, and one line alone always fits.
    /// </summary>
    internal const int PostgresNotifyMaxBytes = 7999;

    /// <summary>What routing one line in a NOTIFY payload adds to it, at most (instance, sequence, kind, name, line breaks).</summary>
    internal const int PostgresNotifyHeaderBytes = 128;

    /// <summary>
    /// The longest <see cref="MaxLineBytes"/> allowed with <see cref="Postgres"/>: a line crosses instances in one
    /// PostgreSQL NOTIFY, whose payload must stay under 8000 bytes. The line as delivered is at most
    /// <c>MaxLineBytes + LineOverheadBytes</c> bytes (sent unescaped), and its routing header at most
    /// <see cref="PostgresNotifyHeaderBytes"/>.
    /// </summary>
    internal const int PostgresMaxLineBytes = PostgresNotifyMaxBytes - PostgresNotifyHeaderBytes - LineOverheadBytes;
}
