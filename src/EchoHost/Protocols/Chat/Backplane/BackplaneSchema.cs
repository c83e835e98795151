using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The backplane's tables, in schema <c>echohost</c>, created on connect when missing. Versioned: each migration runs
/// once, recorded in <c>echohost.schema_version</c>; instances that start together take turns on an advisory lock,
/// so none fails because another is creating the same table.
/// </summary>
internal static class BackplaneSchema
{
    /// <summary>Any constant: the advisory lock every EchoHost instance takes while it checks the schema.</summary>
    private const long MigrationLock = 0x4563686f486f7374; // "EchoHost"

    /// <summary>Migration n (1-based) brings the schema from version n-1 to n. Only ever append.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE echohost.chat_instances (
            id uuid PRIMARY KEY,
            started_at timestamptz NOT NULL DEFAULT now(),
            seen_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE echohost.chat_members (
            nick text NOT NULL,
            room text NOT NULL,
            instance_id uuid NOT NULL REFERENCES echohost.chat_instances (id) ON DELETE CASCADE,
            since timestamptz NOT NULL DEFAULT now());
        CREATE UNIQUE INDEX chat_members_nick ON echohost.chat_members (lower(nick));
        CREATE INDEX chat_members_room ON echohost.chat_members (lower(room));
        CREATE INDEX chat_members_instance ON echohost.chat_members (instance_id);
        CREATE TABLE echohost.chat_history (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            room_key text NOT NULL,
            room text NOT NULL,
            at timestamptz NOT NULL,
            line text NOT NULL);
        CREATE INDEX chat_history_room ON echohost.chat_history (room_key, id);
        CREATE SEQUENCE echohost.chat_guest;
        """,
        // Nicks are unique by their look-alike key too (ChatNames.NickKey): a1ice beside alice. Rows without one (guest
        // nicks, older instances) do not take part.
        """
        ALTER TABLE echohost.chat_members ADD COLUMN IF NOT EXISTS nick_key text;
        CREATE UNIQUE INDEX IF NOT EXISTS chat_members_nick_key ON echohost.chat_members (nick_key);
        """,
    ];

    public static int Version => Migrations.Length;

    /// <summary>Brings the database to <see cref="Version"/>; returns the version it found.</summary>
    public static async Task<int> EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await ExecuteAsync(connection, """
            CREATE SCHEMA IF NOT EXISTS echohost;
            CREATE TABLE IF NOT EXISTS echohost.schema_version (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now());
            """, cancellationToken);

        await using var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM echohost.schema_version", connection);
        var found = (int)(await read.ExecuteScalarAsync(cancellationToken))!;

        // A newer schema (a newer EchoHost ran here) is left alone: migrations only ever add.
        for (var version = found + 1; version <= Version; version++)
        {
            await ExecuteAsync(connection, Migrations[version - 1], cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO echohost.schema_version (version) VALUES ($1)", connection)
            {
                Parameters = { new() { Value = version } },
            };
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return found;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
