using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Checks <c>EchoHost:Chat</c> at start, for the central validator (the chat registration hands it
/// <see cref="Validate"/>): the limits of the chat, and the scale-out backplane's connection string. Every failure is
/// one line that begins with the key at fault.
/// </summary>
internal static class ChatOptionsValidation
{
    public const string Path = $"{EchoHostOptions.SectionName}:{ChatSection.Key}";

    /// <summary>The scale-out backplane: a connection string Npgsql accepts (never echoed: it may hold a password), and lines that fit one NOTIFY.</summary>
    private static void ValidatePostgres(ChatOptions chat, string path, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(chat.Postgres))
        {
            return;
        }

        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(chat.Postgres);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                failures.Add($"{path}:Postgres: the connection string names no Host; use e.g. Host=postgres;Database=echohost;Username=echohost;Password=...");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            failures.Add($"{path}:Postgres: not a valid Npgsql connection string ({ex.Message}); use e.g. Host=postgres;Database=echohost;Username=echohost;Password=...");
        }

        if (chat.PostgresTimeout <= TimeSpan.Zero || chat.PostgresTimeout > ChatOptions.PostgresMaxTimeout)
        {
            failures.Add($"{path}:PostgresTimeout: {chat.PostgresTimeout} is out of range; use more than 0 and at most {ChatOptions.PostgresMaxTimeout}, such as 00:00:03");
        }

        if (chat.MaxLineBytes > ChatOptions.PostgresMaxLineBytes)
        {
            failures.Add($"{path}:MaxLineBytes: {chat.MaxLineBytes} is too large with {path}:Postgres set; a line crosses instances in one PostgreSQL NOTIFY (under 8000 bytes): use at most {ChatOptions.PostgresMaxLineBytes}");
        }
    }

    public static void Validate(ChatOptions chat, List<string> failures)
    {
        const string path = Path;
        void AtLeast(string key, double value, double minimum)
        {
            if (value < minimum)
            {
                failures.Add($"{path}:{key}: {value} is too small; use at least {minimum}");
            }
        }

        AtLeast(nameof(chat.MaxLineBytes), chat.MaxLineBytes, 16);
        AtLeast(nameof(chat.FloodBurst), chat.FloodBurst, 1);
        AtLeast(nameof(chat.MaxUsers), chat.MaxUsers, 1);
        AtLeast(nameof(chat.MaxRooms), chat.MaxRooms, 1);
        AtLeast(nameof(chat.HistorySize), chat.HistorySize, 0);
        if (chat.FloodLinesPerSecond <= 0)
        {
            failures.Add($"{path}:FloodLinesPerSecond: must be more than 0");
        }

        // A queue smaller than a few full lines would disconnect a reader who is merely a little behind; and a join
        // replays the room's history at once, so the history must fit in the queue with room to spare, or one user
        // filling it with long lines would get every newcomer cut as a slow reader.
        var line = (long)chat.MaxLineBytes + ChatOptions.LineOverheadBytes;
        if (chat.MaxQueuedBytes < 4 * line)
        {
            failures.Add($"{path}:MaxQueuedBytes: {chat.MaxQueuedBytes} is too small; use at least 4 x (MaxLineBytes + 64) = {4 * line}");
        }
        else if (chat.MaxQueuedBytes < 2L * chat.HistorySize * line)
        {
            failures.Add($"{path}:MaxQueuedBytes: {chat.MaxQueuedBytes} is too small; use at least 2 x HistorySize x (MaxLineBytes + 64) = "
                + $"{2L * chat.HistorySize * line}, so the history replayed on join fills at most half of a user's queue");
        }

        if (chat.MaxQueuedPrivateBytes is { } privateBytes && (privateBytes < line || privateBytes > chat.MaxQueuedBytes / 2))
        {
            failures.Add($"{path}:MaxQueuedPrivateBytes: {privateBytes} is out of range; use at least MaxLineBytes + 64 = {line} "
                + $"and at most half of MaxQueuedBytes = {chat.MaxQueuedBytes / 2}, so private messages alone can never fill a user's queue");
        }

        if (chat.IdleTimeout < TimeSpan.Zero)
        {
            failures.Add($"{path}:IdleTimeout: must not be negative; use 0 for no idle timeout");
        }

        if (chat.SlowReaderNickHold < TimeSpan.Zero)
        {
            failures.Add($"{path}:SlowReaderNickHold: must not be negative; use 0 to release the nick of a user cut as a slow reader at once");
        }

        ValidatePostgres(chat, path, failures);
    }
}
