using System.Threading.Channels;
using EchoHost.Configuration;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The chat backplane on PostgreSQL (<c>EchoHost:Chat:Postgres</c>): rooms, nicks, membership and history shared by
/// every instance on the same database. Two connections per instance: one LISTENs and delivers what other instances
/// NOTIFY into the chat core; the other is the instance's only writer, fed by one queue in the order the core saw
/// things happen, so each sender's lines arrive everywhere in order, one NOTIFY per line whatever the number of
/// recipients. When the database cannot be reached, the chat goes on locally: one warning, questions answered
/// "unavailable" at once, events counted as unpublished; the connections come back by themselves (with backoff),
/// and then this instance's users are registered again.
/// </summary>
internal sealed partial class PostgresChatBackplane : BackgroundService, IChatBackplane
{
    public const string NotifyChannel = "echohost_chat";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <summary>How long start waits for the first connection, so the first users get shared guest nicks.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(5);

    /// <summary>Events waiting for the database at most; beyond, the database is too slow and events stay local.</summary>
    private const int MaxQueued = 10_000;

    private const int MaxBatch = 128;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ChatOptions _options;
    private readonly IBackplaneObserver _observer;
    private readonly TimeProvider _time;
    private readonly BackplaneTimings _timings;
    private readonly ILogger<PostgresChatBackplane> _logger;
    private readonly Guid _instance = Guid.NewGuid();
    private readonly string _instanceKey;
    private readonly string _server;
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<string> _roomsToTrim = new(StringComparer.Ordinal);
    private IChatBackplaneSink? _sink;
    private Session? _session;
    private int _queued;
    private bool _everConnected;

    /// <summary>Statements are being refused (write loop only): warned once.</summary>
    private bool _refusing;
    private DateTimeOffset? _outageSince;

    public PostgresChatBackplane(ChatOptions options, IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings,
        ILogger<PostgresChatBackplane> logger)
    {
        _options = options;
        _observer = observer;
        _time = time;
        _timings = timings;
        _logger = logger;
        _instanceKey = _instance.ToString("N");
        var builder = new NpgsqlDataSourceBuilder(options.Postgres);
        var settings = builder.ConnectionStringBuilder;
        settings.ApplicationName ??= "echohost";
        // A database that vanishes without closing the connection (a dead node) is noticed by keepalives.
        if (settings.KeepAlive == 0)
        {
            settings.KeepAlive = 10;
        }

        // A refused statement names itself (PostgresException.BatchCommand), so that only what it carried stays here.
        settings.IncludeFailedBatchedCommand = true;
        _server = $"{settings.Host}:{settings.Port}/{settings.Database ?? settings.Username}";
        _dataSource = builder.Build();
    }

    public void Attach(IChatBackplaneSink sink) => _sink = sink;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        try
        {
            await _firstAttempt.Task.WaitAsync(StartWait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still trying: the chat starts local and joins the others once connected.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_everConnected)
        {
            return;
        }

        // Leave at once rather than expire: this instance's users are gone with it.
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token);
            await using var command = new NpgsqlCommand("DELETE FROM echohost.chat_instances WHERE id = $1", connection)
            {
                Parameters = { new() { Value = _instance } },
            };
            await command.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            LogLeaveFailed(_server, ex.Message);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _dataSource.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _observer.StartSeriesAtZero();
        return Task.WhenAll(ConnectLoopAsync(stoppingToken), WriteLoopAsync(stoppingToken));
    }

    // ---- What the chat core tells and asks ----------------------------------------------------------------------

    public ValueTask<string?> ClaimGuestNickAsync(string room) => AskAsync<string?>(null, async (connection, ct) =>
    {
        // The shared sequence makes a collision rare (someone may have picked guest-N by /nick): draw again then.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var command = Command(connection, """
                INSERT INTO echohost.chat_members (nick, room, instance_id)
                SELECT 'guest-' || nextval('echohost.chat_guest'), $1, $2
                ON CONFLICT (lower(nick)) DO NOTHING RETURNING nick
                """, room, _instance);
            if (await command.ExecuteScalarAsync(ct) is string nick)
            {
                return nick;
            }
        }

        return null;
    });

    public async ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, string notice)
    {
        var payload = BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, room, notice);
        return await AskAsync(NickClaim.Unavailable, async (connection, ct) =>
        {
            try
            {
                // One statement: the unique indexes on lower(nick) and nick_key decide atomically, whoever else asks at the same time.
                await using var rename = Command(connection, """
                    WITH renamed AS (
                        UPDATE echohost.chat_members SET nick = $2, nick_key = $4 WHERE lower(nick) = lower($1) AND instance_id = $3 RETURNING 1)
                    SELECT count(*) FROM renamed
                    """, oldNick, newNick, _instance, ChatNames.NickKey(newNick));
                if ((long)(await rename.ExecuteScalarAsync(ct))! == 0)
                {
                    // Not registered (it was taken while the database was away): claim the new nick afresh.
                    await using var claim = Command(connection, """
                        INSERT INTO echohost.chat_members (nick, room, instance_id, nick_key) VALUES ($1, $2, $3, $4)
                        ON CONFLICT DO NOTHING RETURNING 1
                        """, newNick, room, _instance, ChatNames.NickKey(newNick));
                    if (await claim.ExecuteScalarAsync(ct) is null)
                    {
                        return NickClaim.Taken;
                    }
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return NickClaim.Taken;
            }

            await NotifyAsync(connection, payload, ct);
            return NickClaim.Claimed;
        });
    }

    public void Said(string room, string line, DateTimeOffset at)
    {
        var payload = BackplanePayload.Format(_instanceKey, PayloadKind.RoomMessage, room, line);
        var sql = _options.HistorySize > 0
            ? "WITH kept AS (INSERT INTO echohost.chat_history (room_key, room, at, line) VALUES (lower($2), $2, $3, $4)) SELECT pg_notify('" + NotifyChannel + "', $1)"
            : NotifySql;
        Publish(new Publication(BatchCommand(sql, payload, room, at, line), Notifies: 1, TrimRoom: room));
    }

    public void Entered(string nick, string room, string notice, (string Room, string Notice)? left = null)
    {
        const string Move = "WITH moved AS (UPDATE echohost.chat_members SET room = $2 WHERE lower(nick) = lower($3) AND instance_id = $4) ";
        var joined = BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, room, notice);
        // One statement, so one transaction: its notifications are delivered at its commit, in the order sent, and by
        // then the membership has moved (the "left" line first, as the rooms hear it here).
        Publish(left is { } from
            ? new Publication(BatchCommand(
                Move + "SELECT pg_notify('" + NotifyChannel + "', $5), pg_notify('" + NotifyChannel + "', $1)",
                joined, room, nick, _instance, BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, from.Room, from.Notice)), Notifies: 2)
            : new Publication(BatchCommand(Move + NotifySql, joined, room, nick, _instance), Notifies: 1));
    }

    public void Left(string nick, string room, string? notice)
    {
        var payload = notice is null ? null : BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, room, notice);
        Publish(payload is null
            ? new Publication(BatchCommand("DELETE FROM echohost.chat_members WHERE lower(nick) = lower($1) AND instance_id = $2", nick, _instance), Notifies: 0)
            : new Publication(BatchCommand(
                "WITH gone AS (DELETE FROM echohost.chat_members WHERE lower(nick) = lower($2) AND instance_id = $3) SELECT pg_notify('" + NotifyChannel + "', $1)",
                payload, nick, _instance), Notifies: 1));
    }

    public async ValueTask<Shared<string?>> SendPrivateAsync(string nick, string line)
    {
        var payload = BackplanePayload.Format(_instanceKey, PayloadKind.Private, nick, line);
        var found = await AskAsync<string?>(null, async (connection, ct) =>
        {
            await using var command = Command(connection, $"""
                SELECT m.nick, pg_notify('{NotifyChannel}', $2) FROM echohost.chat_members m
                JOIN echohost.chat_instances i ON i.id = m.instance_id
                WHERE lower(m.nick) = lower($1) AND m.instance_id <> $3 AND i.seen_at > now() - $4::interval
                """, nick, payload, _instance, _timings.InstanceLifetime);
            var target = await command.ExecuteScalarAsync(ct) as string;
            if (target is not null)
            {
                _observer.Published(1);
            }

            // "" for nobody, so that null keeps meaning unavailable.
            return target ?? "";
        });
        return found is null ? Shared<string?>.Unavailable : Shared<string?>.Of(found.Length == 0 ? null : found);
    }

    public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) => AskSharedAsync<IReadOnlyList<string>>(async (connection, ct) =>
    {
        await using var command = Command(connection, """
            SELECT m.nick FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
            WHERE lower(m.room) = lower($1) AND i.seen_at > now() - $2::interval
            """, room, _timings.InstanceLifetime);
        var nicks = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            nicks.Add(reader.GetString(0));
        }

        return nicks;
    });

    public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() => AskSharedAsync<IReadOnlyList<(string, int)>>(async (connection, ct) =>
    {
        await using var command = Command(connection, """
            SELECT min(m.room), count(*)::int FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
            WHERE i.seen_at > now() - $1::interval GROUP BY lower(m.room)
            """, _timings.InstanceLifetime);
        var rooms = new List<(string, int)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rooms.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return rooms;
    });

    public ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count) => AskSharedAsync(async (connection, ct) =>
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                BatchCommand("""
                    SELECT coalesce(
                        (SELECT min(m.room) FROM echohost.chat_members m JOIN echohost.chat_instances i ON i.id = m.instance_id
                         WHERE lower(m.room) = lower($1) AND i.seen_at > now() - $2::interval),
                        (SELECT room FROM echohost.chat_history WHERE room_key = lower($1) ORDER BY id DESC LIMIT 1))
                    """, room, _timings.InstanceLifetime),
                BatchCommand("""
                    SELECT at, line FROM (
                        SELECT id, at, line FROM echohost.chat_history WHERE room_key = lower($1) ORDER BY id DESC LIMIT $2) recent
                    ORDER BY id
                    """, room, Math.Max(count, 0)),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var name = await reader.IsDBNullAsync(0, ct) ? null : reader.GetString(0);
        await reader.NextResultAsync(ct);
        var history = new List<(DateTimeOffset, string)>();
        while (await reader.ReadAsync(ct))
        {
            history.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1)));
        }

        return new SharedRoom(name, history);
    });

    // ---- Connection: LISTEN, heartbeat, outage and recovery --------------------------------------------------------

    private async Task ConnectLoopAsync(CancellationToken stopping)
    {
        var retry = FirstRetry;
        while (!stopping.IsCancellationRequested)
        {
            NpgsqlConnection? listen = null;
            NpgsqlConnection? writer = null;
            Session? session = null;
            try
            {
                listen = await _dataSource.OpenConnectionAsync(stopping);
                await BackplaneSchema.EnsureAsync(listen, stopping);
                listen.Notification += OnNotification;
                await using (var command = new NpgsqlCommand($"LISTEN {NotifyChannel}", listen))
                {
                    await command.ExecuteNonQueryAsync(stopping);
                }

                writer = await _dataSource.OpenConnectionAsync(stopping);
                // A message is delivered when its commit returns; waiting for the disk too would put a WAL flush into
                // every delivery's latency. A database crash may lose the last moments of history, never corrupt it.
                await using (var command = new NpgsqlCommand("SET synchronous_commit = off", writer))
                {
                    await command.ExecuteNonQueryAsync(stopping);
                }

                await RegisterInstanceAsync(writer, stopping);
                session = new Session(writer, stopping);
                writer = null; // the write loop owns it now
                Volatile.Write(ref _session, session);
                OnConnected();
                retry = FirstRetry;

                // Registers this instance's users now rather than with the next event.
                Enqueue(new Heartbeat(this));
                var nextHeartbeat = _time.GetUtcNow() + _timings.HeartbeatInterval;
                while (true)
                {
                    // On a deadline, not on silence: every instance hears every NOTIFY (its own too), so with lines
                    // more often than the interval a wait would never time out.
                    // (Whole milliseconds: WaitAsync takes a timeout of 0 ms as "wait forever".)
                    var untilHeartbeat = nextHeartbeat - _time.GetUtcNow();
                    if (untilHeartbeat < TimeSpan.FromMilliseconds(1))
                    {
                        Enqueue(new Heartbeat(this));
                        nextHeartbeat = _time.GetUtcNow() + _timings.HeartbeatInterval;
                        continue;
                    }

                    await listen.WaitAsync(untilHeartbeat, session.Fault);
                }
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                OnUnreachable(session?.Failure ?? ex);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // Stopping: whatever the cancelled statement threw.
            }
            finally
            {
                Volatile.Write(ref _session, null);
                session?.Fail(null);
                if (listen is not null)
                {
                    listen.Notification -= OnNotification;
                    await DisposeQuietlyAsync(listen);
                }

                if (writer is not null)
                {
                    await DisposeQuietlyAsync(writer);
                }
            }

            try
            {
                await Task.Delay(retry, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
        }
    }

    private async Task RegisterInstanceAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = Command(connection, """
            INSERT INTO echohost.chat_instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()
            """, _instance);
        await command.ExecuteNonQueryAsync(ct);
    }

    private void OnConnected()
    {
        _observer.Connected(true);
        if (!_everConnected)
        {
            _everConnected = true;
            LogConnected(_server, _instance, BackplaneSchema.Version);
        }
        else if (_outageSince is { } since)
        {
            LogReconnected(_server, _time.GetUtcNow() - since);
        }

        _outageSince = null;
        _firstAttempt.TrySetResult();
    }

    /// <summary>One warning per outage; every failed attempt counts as an error.</summary>
    private void OnUnreachable(Exception ex)
    {
        _observer.Error();
        _observer.Connected(false);
        if (_outageSince is null)
        {
            _outageSince = _time.GetUtcNow();
            LogUnreachable(_server, ex.Message);
        }
        else
        {
            LogRetryFailed(_server, ex.Message);
        }

        _firstAttempt.TrySetResult();
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (!BackplanePayload.TryParse(e.Payload, out var payload) || payload.Instance == _instanceKey || _sink is not { } sink)
        {
            return;
        }

        _observer.Received();
        switch (payload.Kind)
        {
            case PayloadKind.Private:
                sink.DeliverPrivate(payload.Target, payload.Line);
                break;
            default:
                sink.DeliverToRoom(payload.Target, payload.Line, remember: payload.Kind == PayloadKind.RoomMessage);
                break;
        }
    }

    // ---- The write loop: the instance's only writer ---------------------------------------------------------------

    private void Publish(Publication publication)
    {
        if (Volatile.Read(ref _session) is not { Faulted: false })
        {
            _observer.Unpublished(publication.Notifies);
            return;
        }

        if (Interlocked.Increment(ref _queued) > MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            _observer.Unpublished(publication.Notifies);
            return;
        }

        Enqueue(publication);
    }

    private void Enqueue(Work work)
    {
        if (!_work.Writer.TryWrite(work))
        {
            (work as Request)?.Unavailable();
        }
    }

    private async ValueTask<T> AskAsync<T>(T unavailable, Func<NpgsqlConnection, CancellationToken, Task<T>> run)
    {
        if (Volatile.Read(ref _session) is not { Faulted: false })
        {
            return unavailable;
        }

        var request = new Request<T>(run, unavailable);
        Enqueue(request);
        return await request.Answer.Task;
    }

    private async ValueTask<Shared<T>> AskSharedAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> run) where T : class
    {
        var answer = await AskAsync<T?>(null, async (connection, ct) => await run(connection, ct));
        return answer is null ? Shared<T>.Unavailable : Shared<T>.Of(answer);
    }

    private async Task WriteLoopAsync(CancellationToken stopping)
    {
        var reader = _work.Reader;
        var batch = new List<Publication>();
        Session? owned = null;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                while (reader.TryRead(out var work))
                {
                    if (work is Publication publication)
                    {
                        Interlocked.Decrement(ref _queued);
                        batch.Add(publication);
                        if (batch.Count < MaxBatch)
                        {
                            continue;
                        }
                    }

                    owned = await FlushAsync(batch, owned, stopping);
                    if (work is Request request)
                    {
                        owned = await RunAsync(request, owned, stopping);
                    }
                }

                owned = await FlushAsync(batch, owned, stopping);
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopping: whatever the cancelled statement threw.
        }
        finally
        {
            _work.Writer.TryComplete();
            while (reader.TryRead(out var left))
            {
                (left as Request)?.Unavailable();
            }

            if (owned is not null)
            {
                await DisposeQuietlyAsync(owned.Connection);
            }
        }
    }

    /// <summary>
    /// The session to write on, registered (this instance's users claimed again) if it is new; null while
    /// unreachable. A session the connect loop gave up is closed here, by its only user.
    /// </summary>
    private async Task<Session?> ReadySessionAsync(Session? owned, CancellationToken stopping)
    {
        var current = Volatile.Read(ref _session);
        if (owned is not null && owned != current)
        {
            await DisposeQuietlyAsync(owned.Connection);
        }

        if (current is null || current.Faulted)
        {
            return current;
        }

        if (current.NeedsRegistration)
        {
            try
            {
                await RegisterUsersAsync(current.Connection, current.Fault);
                current.NeedsRegistration = false;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                // Tried again with the next work; meanwhile, what comes stays here.
                OnFailure(current, ex);
                return null;
            }
        }

        return current;
    }

    private async Task<Session?> FlushAsync(List<Publication> batch, Session? owned, CancellationToken stopping)
    {
        if (batch.Count == 0)
        {
            return owned;
        }

        var notifies = batch.Sum(p => p.Notifies);
        Session? session = null;
        try
        {
            session = await ReadySessionAsync(owned, stopping);
            if (session is not { Faulted: false })
            {
                _observer.Unpublished(notifies);
                return session;
            }

            // One round trip for everything queued, in order; still one NOTIFY per event. Error barriers make each
            // statement commit on its own: one the server refuses loses only what it carried, not its neighbours.
            await using var commands = new NpgsqlBatch(session.Connection) { EnableErrorBarriers = true };
            foreach (var publication in batch)
            {
                commands.BatchCommands.Add(publication.Command);
                if (publication.TrimRoom is { } room)
                {
                    _roomsToTrim.Add(room.ToLowerInvariant());
                }
            }

            try
            {
                await commands.ExecuteNonQueryAsync(session.Fault);
            }
            catch (Exception ex) when (Refusals(ex) is { } refusals && !session.Faulted && session.Connection.State == System.Data.ConnectionState.Open)
            {
                var lost = batch.Where(p => refusals.Any(r => r.BatchCommand == p.Command)).Sum(p => p.Notifies);
                _observer.Published(notifies - lost);
                _observer.Unpublished(lost);
                OnFailure(session, refusals[0], refusals.Count);
                return session;
            }

            _observer.Published(notifies);
            _refusing = false;
            return session;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            _observer.Unpublished(notifies);
            OnFailure(session, ex);
            return session;
        }
        finally
        {
            batch.Clear();
        }
    }

    private async Task<Session?> RunAsync(Request request, Session? owned, CancellationToken stopping)
    {
        Session? session = null;
        try
        {
            session = await ReadySessionAsync(owned, stopping);
            if (session is not { Faulted: false })
            {
                request.Unavailable();
                return session;
            }

            await request.RunAsync(session.Connection, session.Fault);
            _refusing = false;
            return session;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            request.Unavailable();
            OnFailure(session, ex);
            return session;
        }
    }

    /// <summary>
    /// The errors of the statements of a batch the server refused, each naming its statement (with error barriers,
    /// several come wrapped together); null when the failure is anything else.
    /// </summary>
    private static List<PostgresException>? Refusals(Exception ex)
    {
        IEnumerable<Exception> errors = ex switch
        {
            PostgresException => [ex],
            AggregateException many => many.InnerExceptions,
            NpgsqlException { InnerException: AggregateException many } => many.InnerExceptions,
            _ => [ex],
        };
        var refusals = new List<PostgresException>();
        foreach (var error in errors)
        {
            if (error is not PostgresException { BatchCommand: not null } refused)
            {
                return null;
            }

            refusals.Add(refused);
        }

        return refusals.Count > 0 ? refusals : null;
    }

    /// <summary>
    /// A statement the server refused (the connection is fine: a schema changed by hand, a missing privilege) is an
    /// error that leaves those events local, warned about once until statements succeed again; anything else means
    /// the connection is gone, and the connect loop takes over. Each refused statement of a batch is an error of its
    /// own, as the errors series counts statements.
    /// </summary>
    private void OnFailure(Session? session, Exception ex, int refusedStatements = 1)
    {
        if (ex is PostgresException refused && session is { Faulted: false } && session.Connection.State == System.Data.ConnectionState.Open)
        {
            _observer.Error(refusedStatements);
            if (!_refusing)
            {
                _refusing = true;
                LogRefused(_server, refused.Message);
            }
            else
            {
                LogRefusedAgain(_server, refused.Message);
            }

            return;
        }

        session?.Fail(ex);
    }

    /// <summary>
    /// After (re)connecting: this instance's users, as they are now, replace whatever the database holds for it. A
    /// nick someone else took meanwhile (claimed on another instance during the outage) costs the user here that nick:
    /// it becomes a fresh guest nick, and the user is told.
    /// </summary>
    private async Task RegisterUsersAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var users = _sink?.LocalUsers() ?? [];
        await using (var clear = Command(connection, "DELETE FROM echohost.chat_members WHERE instance_id = $1", _instance))
        {
            await clear.ExecuteNonQueryAsync(ct);
        }

        var registered = new HashSet<string>(ChatNames.Comparer);
        await using (var register = Command(connection, """
            INSERT INTO echohost.chat_members (nick, room, instance_id, nick_key)
            SELECT u.nick, u.room, $3, u.nick_key FROM unnest($1::text[], $2::text[], $4::text[]) AS u (nick, room, nick_key)
            ON CONFLICT DO NOTHING RETURNING nick
            """, users.Select(u => u.Nick).ToArray(), users.Select(u => u.Room).ToArray(), _instance,
            users.Select(u => ChatNames.NickKey(u.Nick)).ToArray()))
        {
            await using var reader = await register.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                registered.Add(reader.GetString(0));
            }
        }

        var renamed = 0;
        foreach (var (nick, room) in users.Where(u => !registered.Contains(u.Nick)))
        {
            await using var claim = Command(connection, """
                INSERT INTO echohost.chat_members (nick, room, instance_id)
                SELECT 'guest-' || nextval('echohost.chat_guest'), $1, $2
                ON CONFLICT (lower(nick)) DO NOTHING RETURNING nick
                """, room, _instance);
            if (await claim.ExecuteScalarAsync(ct) is not string guest)
            {
                continue;
            }

            if (_sink!.ForceRename(nick, guest))
            {
                renamed++;
                await NotifyAsync(connection, BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, room, ChatMessages.NickChanged(nick, guest)), ct);
            }
            else
            {
                await using var release = Command(connection, "DELETE FROM echohost.chat_members WHERE lower(nick) = lower($1) AND instance_id = $2", guest, _instance);
                await release.ExecuteNonQueryAsync(ct);
            }
        }

        LogRegistered(users.Count, renamed);
    }

    /// <summary>Keeps this instance alive in the database, removes instances that stopped without leaving, trims history.</summary>
    private async Task HeartbeatAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using (var alive = Command(connection, "UPDATE echohost.chat_instances SET seen_at = now() WHERE id = $1", _instance))
        {
            if (await alive.ExecuteNonQueryAsync(ct) == 0)
            {
                // Taken for dead (silent too long, e.g. paused): come back with every user.
                await RegisterInstanceAsync(connection, ct);
                await RegisterUsersAsync(connection, ct);
            }
        }

        await using (var expire = Command(connection, "DELETE FROM echohost.chat_instances WHERE seen_at < now() - $1::interval", _timings.InstanceLifetime))
        {
            await expire.ExecuteNonQueryAsync(ct);
        }

        // History is read capped; the table is trimmed here, for the rooms this instance wrote to.
        if (_roomsToTrim.Count > 0)
        {
            await using var trim = Command(connection, """
                DELETE FROM echohost.chat_history h USING (
                    SELECT room_key, (SELECT id FROM echohost.chat_history x WHERE x.room_key = r.room_key ORDER BY id DESC OFFSET $2 LIMIT 1) AS last_old
                    FROM unnest($1::text[]) AS r (room_key)) old
                WHERE h.room_key = old.room_key AND h.id <= old.last_old
                """, _roomsToTrim.ToArray(), _options.HistorySize);
            await trim.ExecuteNonQueryAsync(ct);
            _roomsToTrim.Clear();
        }
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private const string NotifySql = "SELECT pg_notify('" + NotifyChannel + "', $1)";

    private async Task NotifyAsync(NpgsqlConnection connection, string payload, CancellationToken ct)
    {
        await using var notify = Command(connection, NotifySql, payload);
        await notify.ExecuteNonQueryAsync(ct);
        _observer.Published(1);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    private static async Task DisposeQuietlyAsync(NpgsqlConnection connection)
    {
        try
        {
            await connection.DisposeAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // A broken connection is closed anyway.
        }
    }

    /// <summary>One connection of the write loop, from connect until it fails (or the host stops).</summary>
    private sealed class Session(NpgsqlConnection connection, CancellationToken stopping)
    {
        private readonly CancellationTokenSource _fault = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public NpgsqlConnection Connection { get; } = connection;

        public bool NeedsRegistration { get; set; } = true;

        public bool Faulted => _fault.IsCancellationRequested;

        /// <summary>Cancelled when the session fails or the host stops: every statement on it uses it.</summary>
        public CancellationToken Fault => _fault.Token;

        public Exception? Failure { get; private set; }

        public void Fail(Exception? failure)
        {
            Failure ??= failure;
            _fault.Cancel();
        }
    }

    private abstract class Work;

    private sealed class Publication(NpgsqlBatchCommand command, int Notifies, string? TrimRoom = null) : Work
    {
        public NpgsqlBatchCommand Command { get; } = command;

        public int Notifies { get; } = Notifies;

        public string? TrimRoom { get; } = TrimRoom;
    }

    private abstract class Request : Work
    {
        public abstract Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

        public abstract void Unavailable();
    }

    private sealed class Request<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> run, T unavailable) : Request
    {
        public TaskCompletionSource<T> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
            Answer.TrySetResult(await run(connection, cancellationToken));

        public override void Unavailable() => Answer.TrySetResult(unavailable);
    }

    private sealed class Heartbeat(PostgresChatBackplane backplane) : Request
    {
        public override Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
            backplane.HeartbeatAsync(connection, cancellationToken);

        public override void Unavailable()
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: connected to PostgreSQL {Server} as instance {Instance} (schema version {SchemaVersion}); rooms, nicks and history are shared with every instance on it")]
    private partial void LogConnected(string server, Guid instance, int schemaVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: PostgreSQL {Server} cannot be reached ({Error}); chat continues on this instance only and reconnects by itself")]
    private partial void LogUnreachable(string server, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: reconnecting to PostgreSQL {Server} failed ({Error}); trying again")]
    private partial void LogRetryFailed(string server, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: PostgreSQL {Server} is reachable again after {Outage}; chat spans every instance again")]
    private partial void LogReconnected(string server, TimeSpan outage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: PostgreSQL {Server} refused a statement ({Error}); those events stay on this instance")]
    private partial void LogRefused(string server, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: PostgreSQL {Server} refused a statement again ({Error})")]
    private partial void LogRefusedAgain(string server, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: registered {Users} users of this instance ({Renamed} renamed: their nick was taken meanwhile)")]
    private partial void LogRegistered(int users, int renamed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: could not remove this instance from PostgreSQL {Server} at shutdown ({Error}); it expires by itself")]
    private partial void LogLeaveFailed(string server, string error);
}
