using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// Every statement the backplane runs (the schema's migrations aside: <see cref="BackplaneSchema"/>), each written
/// once, and the one way a statement gets its positional parameters. Members are matched by <c>lower(nick)</c>;
/// an instance's answers count only members of instances seen within their lifetime (<c>$n::interval</c>).
/// </summary>
internal static class BackplaneSql
{
    /// <summary>The channel every instance LISTENs on and NOTIFYs to.</summary>
    public const string NotifyChannel = "echohost_chat";

    public const string Listen = "LISTEN " + NotifyChannel;

    /// <summary>
    /// A message is delivered when its commit returns; waiting for the disk too would put a WAL flush into every
    /// delivery's latency. A database crash may lose the last moments of history, never corrupt it.
    /// </summary>
    public const string SynchronousCommitOff = "SET synchronous_commit = off";

    // ---- The instance registry --------------------------------------------------------------------------------------

    /// <summary>$1 instance.</summary>
    public const string RegisterInstance = "INSERT INTO echohost.chat_instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()";

    /// <summary>$1 instance; its members go with it (ON DELETE CASCADE).</summary>
    public const string LeaveInstance = "DELETE FROM echohost.chat_instances WHERE id = $1";

    /// <summary>$1 instance: how many rows (0: it was taken for dead).</summary>
    public const string KeepAlive = "UPDATE echohost.chat_instances SET seen_at = now() WHERE id = $1";

    /// <summary>$1 lifetime.</summary>
    public const string ExpireInstances = "DELETE FROM echohost.chat_instances WHERE seen_at < now() - $1::interval";

    /// <summary>$1 room keys, $2 history size: keeps the last $2 rows of each room.</summary>
    public const string TrimHistory = """
        DELETE FROM echohost.chat_history h USING (
            SELECT room_key, (SELECT id FROM echohost.chat_history x WHERE x.room_key = r.room_key ORDER BY id DESC OFFSET $2 LIMIT 1) AS last_old
            FROM unnest($1::text[]) AS r (room_key)) old
        WHERE h.room_key = old.room_key AND h.id <= old.last_old
        """;

    /// <summary>$1 instance.</summary>
    public const string ClearMembers = "DELETE FROM echohost.chat_members WHERE instance_id = $1";

    /// <summary>$1 nicks, $2 rooms, $3 instance, $4 nick keys: the nicks registered (the others are taken).</summary>
    public const string RegisterMembers = """
        INSERT INTO echohost.chat_members (nick, room, instance_id, nick_key)
        SELECT u.nick, u.room, $3, u.nick_key FROM unnest($1::text[], $2::text[], $4::text[]) AS u (nick, room, nick_key)
        ON CONFLICT DO NOTHING RETURNING nick
        """;

    // ---- Nicks and membership ---------------------------------------------------------------------------------------

    /// <summary>$1 room, $2 instance: the nick claimed, or no row when the drawn one was taken.</summary>
    public const string ClaimGuest = """
        INSERT INTO echohost.chat_members (nick, room, instance_id)
        SELECT 'guest-' || nextval('echohost.chat_guest'), $1, $2
        ON CONFLICT (lower(nick)) DO NOTHING RETURNING nick
        """;

    /// <summary>$1 old nick, $2 new nick, $3 instance, $4 new nick's key: how many rows renamed.</summary>
    public const string Rename = """
        WITH renamed AS (
            UPDATE echohost.chat_members SET nick = $2, nick_key = $4 WHERE lower(nick) = lower($1) AND instance_id = $3 RETURNING 1)
        SELECT count(*) FROM renamed
        """;

    /// <summary>$1 nick, $2 room, $3 instance, $4 nick key: a row when claimed.</summary>
    public const string ClaimNick = """
        INSERT INTO echohost.chat_members (nick, room, instance_id, nick_key) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING RETURNING 1
        """;

    /// <summary>$1 nick, $2 instance.</summary>
    public const string ReleaseNick = "DELETE FROM echohost.chat_members WHERE lower(nick) = lower($1) AND instance_id = $2";

    /// <summary>$1 payload, $2 nick, $3 instance: releases the nick and tells the room.</summary>
    public static readonly string ReleaseNickAndNotify =
        "WITH gone AS (DELETE FROM echohost.chat_members WHERE lower(nick) = lower($2) AND instance_id = $3) SELECT " + Notify("$1");

    /// <summary>$1 payload for the room entered, $2 room, $3 nick, $4 instance.</summary>
    public static readonly string MoveAndNotify = MoveMember + "SELECT " + Notify("$1");

    /// <summary>As <see cref="MoveAndNotify"/>, and $5 the payload for the room left, sent first.</summary>
    public static readonly string MoveAndNotifyBoth = MoveMember + "SELECT " + Notify("$5") + ", " + Notify("$1");

    private const string MoveMember = "WITH moved AS (UPDATE echohost.chat_members SET room = $2 WHERE lower(nick) = lower($3) AND instance_id = $4) ";

    // ---- Lines, history and questions -------------------------------------------------------------------------------

    /// <summary>$1 payload.</summary>
    public static readonly string NotifyOne = "SELECT " + Notify("$1");

    /// <summary>$1 payloads.</summary>
    public static readonly string NotifyMany = "SELECT " + Notify("p") + " FROM unnest($1::text[]) AS p";

    /// <summary>$1 payloads, $2 rooms, $3 times, $4 lines: the lines kept in the history, then <see cref="NotifyMany"/>.</summary>
    public static readonly string StoreAndNotifyMany = """
        WITH kept AS (INSERT INTO echohost.chat_history (room_key, room, at, line)
            SELECT lower(h.room), h.room, h.at, h.line FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS h (room, at, line))
        """ + NotifyMany;

    /// <summary>$1 nick, $2 payload, $3 instance, $4 lifetime: the nick as its owner spells it, when on another live instance.</summary>
    public static readonly string SendPrivate = $"""
        SELECT m.nick, {Notify("$2")} FROM echohost.chat_members m
        JOIN echohost.chat_instances i ON i.id = m.instance_id
        WHERE lower(m.nick) = lower($1) AND m.instance_id <> $3 AND i.seen_at > now() - $4::interval
        """;

    /// <summary>$1 room, $2 lifetime.</summary>
    public const string Who = """
        SELECT m.nick FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
        WHERE lower(m.room) = lower($1) AND i.seen_at > now() - $2::interval
        """;

    /// <summary>$1 lifetime.</summary>
    public const string Rooms = """
        SELECT min(m.room), count(*)::int FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
        WHERE i.seen_at > now() - $1::interval GROUP BY lower(m.room)
        """;

    /// <summary>$1 room, $2 lifetime: the room as its members, or else its history, spell it.</summary>
    public const string RoomName = """
        SELECT coalesce(
            (SELECT min(m.room) FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
             WHERE lower(m.room) = lower($1) AND i.seen_at > now() - $2::interval),
            (SELECT room FROM echohost.chat_history WHERE room_key = lower($1) ORDER BY id DESC LIMIT 1))
        """;

    /// <summary>$1 room, $2 count: the last lines, oldest first.</summary>
    public const string RoomHistory = """
        SELECT at, line FROM (
            SELECT id, at, line FROM echohost.chat_history WHERE room_key = lower($1) ORDER BY id DESC LIMIT $2) recent
        ORDER BY id
        """;

    // ---- Building statements ----------------------------------------------------------------------------------------

    /// <summary>A NOTIFY on <see cref="NotifyChannel"/> of <paramref name="payload"/> (a parameter or a column).</summary>
    public static string Notify(string payload) => "pg_notify('" + NotifyChannel + "', " + payload + ")";

    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        Bind(command.Parameters, values);
        return command;
    }

    public static NpgsqlBatchCommand BatchCommand(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        Bind(command.Parameters, values);
        return command;
    }

    /// <summary>Positional parameters ($1, $2…), null as SQL NULL.</summary>
    private static void Bind(NpgsqlParameterCollection parameters, object?[] values)
    {
        foreach (var value in values)
        {
            parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
    }
}
