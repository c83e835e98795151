using System.Collections.Concurrent;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The backplane's data source and connection policy. Every operation on the database has a deadline
/// (<c>EchoHost:Chat:PostgresTimeout</c>), so a database that stops answering (a frozen or dead node whose TCP is
/// still up) is an outage like any other, and nothing waits on it longer: no user, no stop. Npgsql is never asked to
/// cancel (its cancellation sends a cancel request to the server synchronously, and waits on it); an operation past
/// its deadline is left to finish on its own, and its connection is closed once it has, never used again.
/// </summary>
internal sealed class BackplaneConnections : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;

    /// <summary>Connections whose operation passed its deadline: closed when that operation ends, by itself.</summary>
    private readonly ConcurrentDictionary<NpgsqlConnection, byte> _abandoned = new();

    public BackplaneConnections(ChatOptions options, TimeProvider time)
    {
        _time = time;
        Timeout = options.PostgresTimeout;
        var builder = new NpgsqlDataSourceBuilder(options.Postgres);
        var settings = builder.ConnectionStringBuilder;
        settings.ApplicationName ??= "echohost";
        // A database that stops answering is noticed by the backplane's own deadlines and LISTEN checks, never by
        // Npgsql's keepalive (a synchronous round trip holding the connection's lock) or its command timeout (which
        // sends a cancel request synchronously): both off, whatever the connection string says.
        settings.KeepAlive = 0;
        settings.CommandTimeout = 0;

        // The kernel's keepalive, which blocks nothing, closes connections left to a dead node in the end.
        if (settings.TcpKeepAliveTime == 0)
        {
            settings.TcpKeepAliveTime = 10;
            settings.TcpKeepAliveInterval = 5;
        }

        // A refused statement names itself (PostgresException.BatchCommand), so that only what it carried stays here.
        settings.IncludeFailedBatchedCommand = true;
        Server = $"{settings.Host}:{settings.Port}/{settings.Database ?? settings.Username}";
        _dataSource = builder.Build();
    }

    /// <summary>The database as the log names it: host:port/database.</summary>
    public string Server { get; }

    /// <summary>The deadline of one operation (<c>EchoHost:Chat:PostgresTimeout</c>).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>A new connection, open within the deadline (and not past <paramref name="ct"/>).</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = _dataSource.CreateConnection();
        try
        {
            await TimedAsync(connection, connection.OpenAsync(CancellationToken.None), ct);
            return connection;
        }
        catch
        {
            await DisposeQuietlyAsync(connection);
            throw;
        }
    }

    /// <summary>Runs one statement on the deadline: the rows it affected.</summary>
    public async Task<int> ExecuteAsync(NpgsqlConnection connection, CancellationToken ct, string sql, params object?[] values)
    {
        await using var command = BackplaneSql.Command(connection, sql, values);
        return await TimedAsync(connection, command.ExecuteNonQueryAsync(CancellationToken.None), ct);
    }

    /// <summary>Runs one statement on the deadline: the first column of its first row, if any.</summary>
    public async Task<object?> ScalarAsync(NpgsqlConnection connection, CancellationToken ct, string sql, params object?[] values)
    {
        await using var command = BackplaneSql.Command(connection, sql, values);
        return await TimedAsync(connection, command.ExecuteScalarAsync(CancellationToken.None), ct);
    }

    /// <summary>
    /// Waits for <paramref name="operation"/> on <paramref name="connection"/> within the deadline, and not past
    /// <paramref name="ct"/>, without ever cancelling it: Npgsql cancels with a cancel request sent and waited on
    /// synchronously, on whatever thread cancels, which a frozen server never answers. One past its deadline is left
    /// to finish by itself, and its connection is abandoned: never used again (the caller fails its session), closed
    /// when the operation ends (the server answers, or the kernel's keepalive gives up on a dead one).
    /// </summary>
    public async Task TimedAsync(NpgsqlConnection connection, Task operation, CancellationToken ct)
    {
        try
        {
            await operation.WaitAsync(Timeout, _time, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException && !operation.IsCompleted)
        {
            Abandon(connection, operation);
            if (ex is TimeoutException)
            {
                throw new TimeoutException($"no answer within {Timeout.TotalSeconds:0.###} s");
            }

            throw;
        }
    }

    public async Task<T> TimedAsync<T>(NpgsqlConnection connection, Task<T> operation, CancellationToken ct)
    {
        await TimedAsync(connection, (Task)operation, ct);
        return await operation;
    }

    /// <summary>Leaves <paramref name="connection"/> to <paramref name="operation"/>: closed when it ends, never used again.</summary>
    public void Abandon(NpgsqlConnection connection, Task operation)
    {
        if (!_abandoned.TryAdd(connection, 0))
        {
            return;
        }

        _ = operation.ContinueWith(
            async ended =>
            {
                _ = ended.Exception; // observed: whatever it was, nobody waits for it any more
                _abandoned.TryRemove(connection, out _);
                await DisposeQuietlyAsync(connection);
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default).Unwrap();
    }

    /// <summary>Closes a connection, unless it was abandoned: then it is closed when its last operation ends.</summary>
    public async Task DisposeQuietlyAsync(NpgsqlConnection connection)
    {
        if (_abandoned.ContainsKey(connection))
        {
            return;
        }

        try
        {
            await connection.DisposeAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // A broken connection is closed anyway.
        }
    }

    public void Dispose() => _dataSource.Dispose();
}
