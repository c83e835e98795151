using System.Collections.Concurrent;
using EchoHost.Configuration;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The chat backplane on PostgreSQL (<c>EchoHost:Chat:Postgres</c>): rooms, nicks, membership and history shared by
/// every instance on the same database. Two connections per instance: one LISTENs and delivers what other instances
/// NOTIFY into the chat core; the other is the instance's only writer (<see cref="BackplaneWriter"/>), fed by one
/// queue in the order the core saw things happen, so each sender's lines arrive everywhere in order, many lines per
/// round trip and per NOTIFY whatever the number of recipients. When the database cannot be reached, the chat goes on
/// locally: one warning, questions answered "unavailable" at once, events counted as unpublished; the connections come
/// back by themselves (with backoff), and then this instance's users are registered again.
/// <para>
/// Every operation on the database has a deadline (<c>EchoHost:Chat:PostgresTimeout</c>), so a database that stops
/// answering (a frozen or dead node whose TCP is still up) is an outage like any other, and nothing waits on it
/// longer: no user, no stop. Npgsql is never asked to cancel (its cancellation sends a cancel request to the server
/// synchronously, and waits on it); an operation past its deadline is left to finish on its own, and its connection
/// is closed once it has, never used again.
/// </para>
/// </summary>
internal sealed partial class PostgresChatBackplane : BackgroundService, IChatBackplane, IBackplaneBatchExecutor
{
    public const string NotifyChannel = "echohost_chat";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the LISTEN connection is checked with a round trip: with <c>PostgresTimeout</c> (3 s by default), a
    /// database that stops answering is noticed within 5 s even when nobody says anything.
    /// </summary>
    private static readonly TimeSpan ListenCheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>How long start waits for the first connection, so the first users get shared guest nicks.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ChatOptions _options;
    private readonly IBackplaneObserver _observer;
    private readonly TimeProvider _time;
    private readonly BackplaneTimings _timings;
    private readonly ILogger<PostgresChatBackplane> _logger;
    private readonly Guid _instance = Guid.NewGuid();
    private readonly string _instanceKey;
    private readonly string _server;
    private readonly BackplaneWriter _writer;
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<string> _roomsToTrim = new(StringComparer.Ordinal);

    /// <summary>Connections whose operation passed its deadline: closed when that operation ends, by itself.</summary>
    private readonly ConcurrentDictionary<NpgsqlConnection, byte> _abandoned = new();
    private readonly TimeSpan _timeout;
    private IChatBackplaneSink? _sink;
    private Session? _session;
    private bool _everConnected;

    /// <summary>The session the write loop last wrote on (write loop only).</summary>
    private Session? _owned;

    /// <summary>Numbers this instance's packed payloads (write loop only).</summary>
    private long _payloadSequence;

    /// <summary>Statements are being refused (write loop only): warned once.</summary>
    private bool _refusing;
    private DateTimeOffset? _outageSince;

    public PostgresChatBackplane(ChatOptions options, IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings,
        BackplaneLimits limits, ILogger<PostgresChatBackplane> logger)
    {
        _options = options;
        _observer = observer;
        _time = time;
        _timings = timings;
        _logger = logger;
        _timeout = options.PostgresTimeout;
        _instanceKey = _instance.ToString("N");
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
        _server = $"{settings.Host}:{settings.Port}/{settings.Database ?? settings.Username}";
        _dataSource = builder.Build();
        _writer = new BackplaneWriter(limits, observer,
            (queued, oneSender) => LogRefusing(_server, queued, oneSender ? "a sender has more waiting than its share" : "the queue is full",
                limits.MaxQueuedPerSender, limits.MaxQueued, limits.MaxQueuedBytes >> 20),
            (refused, senders) => LogCaughtUp(_server, refused, senders));
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

        // In an outage there is no one to tell (the instance expires by itself), and no reason to wait for the database.
        if (!_everConnected || _outageSince is not null)
        {
            return;
        }

        // Leave at once rather than expire: this instance's users are gone with it.
        NpgsqlConnection? connection = null;
        try
        {
            // At most 2 s, within the stop's own budget.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            connection = await OpenAsync(timeout.Token);
            await using var command = Command(connection, "DELETE FROM echohost.chat_instances WHERE id = $1", _instance);
            await TimedAsync(connection, command.ExecuteNonQueryAsync(CancellationToken.None), timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            LogLeaveFailed(_server, ex.Message);
        }
        finally
        {
            if (connection is not null)
            {
                await DisposeQuietlyAsync(connection);
            }
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
        return Task.WhenAll(ConnectLoopAsync(stoppingToken), _writer.RunAsync(this, stoppingToken));
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

    public LineRelay Said(string room, string line, DateTimeOffset at, string sender) =>
        Publish(BackplaneEvent.Said(sender, room, line, at));

    public void Entered(string nick, string room, string notice, (string Room, string Notice)? left = null) =>
        Publish(BackplaneEvent.Entered(nick, room, notice, left));

    public void Left(string nick, string room, string? notice) => Publish(BackplaneEvent.Left(nick, room, notice));

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
                listen = await OpenAsync(stopping);
                await TimedAsync(listen, BackplaneSchema.EnsureAsync(listen, CancellationToken.None), stopping);
                listen.Notification += OnNotification;
                await ListenAsync(listen, stopping);

                writer = await OpenAsync(stopping);
                // A message is delivered when its commit returns; waiting for the disk too would put a WAL flush into
                // every delivery's latency. A database crash may lose the last moments of history, never corrupt it.
                await using (var command = new NpgsqlCommand("SET synchronous_commit = off", writer))
                {
                    await TimedAsync(writer, command.ExecuteNonQueryAsync(CancellationToken.None), stopping);
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
                var nextCheck = _time.GetUtcNow() + ListenCheckInterval;
                while (true)
                {
                    // On a deadline, not on silence: every instance hears every NOTIFY (its own too), so with lines
                    // more often than the interval a wait would never time out.
                    // (Whole milliseconds: WaitAsync takes a timeout of 0 ms as "wait forever".)
                    var now = _time.GetUtcNow();
                    if (nextHeartbeat - now < TimeSpan.FromMilliseconds(1))
                    {
                        Enqueue(new Heartbeat(this));
                        nextHeartbeat = now + _timings.HeartbeatInterval;
                        continue;
                    }

                    if (nextCheck - now < TimeSpan.FromMilliseconds(1))
                    {
                        // Notifications arriving prove nothing about a frozen server: a round trip, on a deadline.
                        await ListenAsync(listen, session.Fault);
                        nextCheck = _time.GetUtcNow() + ListenCheckInterval;
                        continue;
                    }

                    // Npgsql's own timeout ends the wait (reading notifications only: it sends nothing, cancels
                    // nothing); a failed session stops waiting for it at once.
                    var wait = listen.WaitAsync(Earliest(nextHeartbeat, nextCheck) - now);
                    try
                    {
                        await wait.WaitAsync(session.Fault);
                    }
                    catch (OperationCanceledException) when (!wait.IsCompleted)
                    {
                        Abandon(listen, wait);
                        throw;
                    }
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
        await TimedAsync(connection, command.ExecuteNonQueryAsync(CancellationToken.None), ct);
    }

    /// <summary>
    /// LISTENs on the channel: first to start hearing it, then again as the check of the connection (a no-op round
    /// trip that leaves the connection showing <c>LISTEN</c> in <c>pg_stat_activity</c>, as it did).
    /// </summary>
    private async Task ListenAsync(NpgsqlConnection listen, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"LISTEN {NotifyChannel}", listen);
        await TimedAsync(listen, command.ExecuteNonQueryAsync(CancellationToken.None), ct);
    }

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

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

    /// <summary>One NOTIFY: one event, or several packed, delivered in the order they were said.</summary>
    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        // Every instance hears its own NOTIFYs too: skipped before unpacking.
        var events = new List<BackplanePayload>();
        if (e.Payload.StartsWith(_instanceKey, StringComparison.Ordinal) || !BackplanePayload.TryUnpack(e.Payload, events) || _sink is not { } sink)
        {
            return;
        }

        _observer.Received(events.Count);
        foreach (var payload in events)
        {
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
    }

    // ---- The write loop: the instance's only writer ---------------------------------------------------------------

    /// <summary>Queues an event for the writer (see <see cref="BackplaneWriter.Publish"/>); while unreachable, it stays here.</summary>
    private LineRelay Publish(BackplaneEvent item)
    {
        if (Volatile.Read(ref _session) is not { Faulted: false })
        {
            _observer.Unpublished(item.Notifies, UnpublishedReason.Unreachable);
            return LineRelay.Queued;
        }

        return _writer.Publish(item);
    }

    private void Enqueue(BackplaneWork work)
    {
        if (!_writer.Enqueue(work))
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

        var request = new Request<T>(this, run, unavailable);
        Enqueue(request);
        try
        {
            // A user waits on the database this long at most, wherever the request is (queued or running).
            return await request.Answer.Task.WaitAsync(_timeout, _time);
        }
        catch (TimeoutException)
        {
            request.Unavailable();
            return await request.Answer.Task;
        }
    }

    private async ValueTask<Shared<T>> AskSharedAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> run) where T : class
    {
        var answer = await AskAsync<T?>(null, async (connection, ct) => await run(connection, ct));
        return answer is null ? Shared<T>.Unavailable : Shared<T>.Of(answer);
    }

    Task IBackplaneBatchExecutor.PublishAsync(IReadOnlyList<BackplaneEvent> events, CancellationToken stopping) => FlushAsync(events, stopping);

    async Task IBackplaneBatchExecutor.RunAsync(BackplaneWork request, CancellationToken stopping) => await RunAsync((Request)request, stopping);

    void IBackplaneBatchExecutor.Abandon(BackplaneWork request) => ((Request)request).Unavailable();

    async Task IBackplaneBatchExecutor.StoppedAsync()
    {
        if (_owned is not null)
        {
            await DisposeQuietlyAsync(_owned.Connection);
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

    private async Task FlushAsync(IReadOnlyList<BackplaneEvent> batch, CancellationToken stopping)
    {
        var notifies = batch.Sum(p => p.Notifies);
        Session? session = null;
        try
        {
            session = _owned = await ReadySessionAsync(_owned, stopping);
            if (session is not { Faulted: false })
            {
                _observer.Unpublished(notifies, UnpublishedReason.Unreachable);
                return;
            }

            // One round trip for everything queued, in order: each run of lines is one statement, its lines packed
            // into as few NOTIFYs as fit; each membership change one statement. Error barriers make each statement
            // commit on its own: one the server refuses loses only what it carried, not its neighbours.
            await using var commands = new NpgsqlBatch(session.Connection) { EnableErrorBarriers = true };
            var carried = new List<(NpgsqlBatchCommand Command, int Notifies)>();
            for (var i = 0; i < batch.Count;)
            {
                var run = i;
                while (run < batch.Count && batch[run].IsLine)
                {
                    run++;
                }

                var (command, count) = run > i ? (LinesCommand(batch, i, run), run - i) : (MembershipCommand(batch[i]), 1);
                commands.BatchCommands.Add(command);
                carried.Add((command, batch.Skip(i).Take(count).Sum(p => p.Notifies)));
                i += count;
            }

            try
            {
                await TimedAsync(session.Connection, commands.ExecuteNonQueryAsync(CancellationToken.None), session.Fault);
            }
            catch (Exception ex) when (Refusals(ex) is { } refusals && !session.Faulted && session.Connection.State == System.Data.ConnectionState.Open)
            {
                // Each event a refused statement carried is an error, as each would have been a statement of its own.
                var lost = carried.Where(c => refusals.Any(r => r.BatchCommand == c.Command)).Sum(c => c.Notifies);
                _observer.Published(notifies - lost);
                _observer.Unpublished(lost, UnpublishedReason.StatementFailed);
                OnFailure(session, refusals[0], Math.Max(lost, refusals.Count));
                return;
            }

            _observer.Published(notifies);
            _refusing = false;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            _observer.Unpublished(notifies, UnpublishedReason.Unreachable);
            OnFailure(session, ex);
        }
    }

    /// <summary>Lines <paramref name="from"/> up to <paramref name="to"/>: stored in the history (if kept) and packed into NOTIFYs, in one statement.</summary>
    private NpgsqlBatchCommand LinesCommand(IReadOnlyList<BackplaneEvent> batch, int from, int to)
    {
        var lines = new List<BackplaneEvent>(to - from);
        for (var i = from; i < to; i++)
        {
            lines.Add(batch[i]);
            _roomsToTrim.Add(batch[i].Room.ToLowerInvariant());
        }

        var payloads = BackplanePayload.Pack(_instanceKey, ref _payloadSequence, lines.Select(l => (PayloadKind.RoomMessage, l.Room, l.Line!))).ToArray();
        const string Notify = "SELECT pg_notify('" + NotifyChannel + "', p) FROM unnest($1::text[]) AS p";
        return _options.HistorySize > 0
            ? BatchCommand("""
                WITH kept AS (INSERT INTO echohost.chat_history (room_key, room, at, line)
                    SELECT lower(h.room), h.room, h.at, h.line FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS h (room, at, line))
                """ + Notify,
                payloads, lines.Select(l => l.Room).ToArray(), lines.Select(l => l.At).ToArray(), lines.Select(l => l.Line!).ToArray())
            // As one parameter: a string[] alone would be taken for the params array itself, one parameter per payload.
            : BatchCommand(Notify, (object)payloads);
    }

    /// <summary>A user entered a room (perhaps moving from another) or is gone: one statement with its notices.</summary>
    private NpgsqlBatchCommand MembershipCommand(BackplaneEvent change)
    {
        if (change.Gone)
        {
            return change.Notice is null
                ? BatchCommand("DELETE FROM echohost.chat_members WHERE lower(nick) = lower($1) AND instance_id = $2", change.Nick, _instance)
                : BatchCommand(
                    "WITH gone AS (DELETE FROM echohost.chat_members WHERE lower(nick) = lower($2) AND instance_id = $3) SELECT pg_notify('" + NotifyChannel + "', $1)",
                    BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, change.Room, change.Notice), change.Nick, _instance);
        }

        const string Move = "WITH moved AS (UPDATE echohost.chat_members SET room = $2 WHERE lower(nick) = lower($3) AND instance_id = $4) ";
        var joined = BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, change.Room, change.Notice!);
        // One statement, so one transaction: its notifications are delivered at its commit, in the order sent, and by
        // then the membership has moved (the "left" line first, as the rooms hear it here).
        return change.LeftRoom is { } from
            ? BatchCommand(
                Move + "SELECT pg_notify('" + NotifyChannel + "', $5), pg_notify('" + NotifyChannel + "', $1)",
                joined, change.Room, change.Nick, _instance, BackplanePayload.Format(_instanceKey, PayloadKind.RoomNotice, from.Room, from.Notice))
            : BatchCommand(Move + NotifySql, joined, change.Room, change.Nick, _instance);
    }

    private async Task RunAsync(Request request, CancellationToken stopping)
    {
        Session? session = null;
        try
        {
            session = _owned = await ReadySessionAsync(_owned, stopping);
            if (session is not { Faulted: false })
            {
                request.Unavailable();
                return;
            }

            await request.RunAsync(session.Connection, session.Fault);
            _refusing = false;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            request.Unavailable();
            OnFailure(session, ex);
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
            await TimedAsync(connection, clear.ExecuteNonQueryAsync(CancellationToken.None), ct);
        }

        var registered = new HashSet<string>(ChatNames.Comparer);
        await using (var register = Command(connection, """
            INSERT INTO echohost.chat_members (nick, room, instance_id, nick_key)
            SELECT u.nick, u.room, $3, u.nick_key FROM unnest($1::text[], $2::text[], $4::text[]) AS u (nick, room, nick_key)
            ON CONFLICT DO NOTHING RETURNING nick
            """, users.Select(u => u.Nick).ToArray(), users.Select(u => u.Room).ToArray(), _instance,
            users.Select(u => ChatNames.NickKey(u.Nick)).ToArray()))
        {
            await TimedAsync(connection, ReadNicksAsync(register, registered), ct);
        }

        var renamed = 0;
        foreach (var (nick, room) in users.Where(u => !registered.Contains(u.Nick)))
        {
            await using var claim = Command(connection, """
                INSERT INTO echohost.chat_members (nick, room, instance_id)
                SELECT 'guest-' || nextval('echohost.chat_guest'), $1, $2
                ON CONFLICT (lower(nick)) DO NOTHING RETURNING nick
                """, room, _instance);
            if (await TimedAsync(connection, claim.ExecuteScalarAsync(CancellationToken.None), ct) is not string guest)
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
                await TimedAsync(connection, release.ExecuteNonQueryAsync(CancellationToken.None), ct);
            }
        }

        LogRegistered(users.Count, renamed);

        static async Task ReadNicksAsync(NpgsqlCommand register, HashSet<string> registered)
        {
            await using var reader = await register.ExecuteReaderAsync(CancellationToken.None);
            while (await reader.ReadAsync(CancellationToken.None))
            {
                registered.Add(reader.GetString(0));
            }
        }
    }

    /// <summary>Keeps this instance alive in the database, removes instances that stopped without leaving, trims history.</summary>
    private async Task HeartbeatAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using (var alive = Command(connection, "UPDATE echohost.chat_instances SET seen_at = now() WHERE id = $1", _instance))
        {
            if (await TimedAsync(connection, alive.ExecuteNonQueryAsync(CancellationToken.None), ct) == 0)
            {
                // Taken for dead (silent too long, e.g. paused): come back with every user.
                await RegisterInstanceAsync(connection, ct);
                await RegisterUsersAsync(connection, ct);
            }
        }

        await using (var expire = Command(connection, "DELETE FROM echohost.chat_instances WHERE seen_at < now() - $1::interval", _timings.InstanceLifetime))
        {
            await TimedAsync(connection, expire.ExecuteNonQueryAsync(CancellationToken.None), ct);
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
            await TimedAsync(connection, trim.ExecuteNonQueryAsync(CancellationToken.None), ct);
            _roomsToTrim.Clear();
        }
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private const string NotifySql = "SELECT pg_notify('" + NotifyChannel + "', $1)";

    private async Task NotifyAsync(NpgsqlConnection connection, string payload, CancellationToken ct)
    {
        await using var notify = Command(connection, NotifySql, payload);
        await TimedAsync(connection, notify.ExecuteNonQueryAsync(CancellationToken.None), ct);
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

    /// <summary>A new connection, open within the deadline (and not past <paramref name="ct"/>).</summary>
    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
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

    /// <summary>
    /// Waits for <paramref name="operation"/> on <paramref name="connection"/> within the deadline, and not past
    /// <paramref name="ct"/>, without ever cancelling it: Npgsql cancels with a cancel request sent and waited on
    /// synchronously, on whatever thread cancels, which a frozen server never answers. One past its deadline is left
    /// to finish by itself, and its connection is abandoned: never used again (the caller fails its session), closed
    /// when the operation ends (the server answers, or the kernel's keepalive gives up on a dead one).
    /// </summary>
    private async Task TimedAsync(NpgsqlConnection connection, Task operation, CancellationToken ct)
    {
        try
        {
            await operation.WaitAsync(_timeout, _time, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException && !operation.IsCompleted)
        {
            Abandon(connection, operation);
            if (ex is TimeoutException)
            {
                throw new TimeoutException($"no answer within {_timeout.TotalSeconds:0.###} s");
            }

            throw;
        }
    }

    private async Task<T> TimedAsync<T>(NpgsqlConnection connection, Task<T> operation, CancellationToken ct)
    {
        await TimedAsync(connection, (Task)operation, ct);
        return await operation;
    }

    private void Abandon(NpgsqlConnection connection, Task operation)
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
    private async Task DisposeQuietlyAsync(NpgsqlConnection connection)
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

    /// <summary>One connection of the write loop, from connect until it fails (or the host stops).</summary>
    private sealed class Session(NpgsqlConnection connection, CancellationToken stopping)
    {
        private readonly CancellationTokenSource _fault = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public NpgsqlConnection Connection { get; } = connection;

        public bool NeedsRegistration { get; set; } = true;

        public bool Faulted => _fault.IsCancellationRequested;

        /// <summary>
        /// Cancelled when the session fails or the host stops: every wait for a statement on it ends then (the
        /// statement itself is never cancelled: see <see cref="TimedAsync"/>).
        /// </summary>
        public CancellationToken Fault => _fault.Token;

        public Exception? Failure { get; private set; }

        public void Fail(Exception? failure)
        {
            Failure ??= failure;
            _fault.Cancel();
        }
    }

    private abstract class Request : BackplaneWork
    {
        public abstract Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

        public abstract void Unavailable();
    }

    /// <summary>A question a user waits for: run on the deadline as one operation (nothing to run once answered).</summary>
    private sealed class Request<T>(PostgresChatBackplane backplane, Func<NpgsqlConnection, CancellationToken, Task<T>> run, T unavailable) : Request
    {
        public TaskCompletionSource<T> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            if (!Answer.Task.IsCompleted)
            {
                Answer.TrySetResult(await backplane.TimedAsync(connection, run(connection, CancellationToken.None), cancellationToken));
            }
        }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: {Queued} events are waiting for PostgreSQL {Server}; refusing lines ({Why}; at most {MaxQueuedPerSender} per sender, {MaxQueued} events or {MaxQueuedMiB} MiB in all): they reach only this instance, and their senders are told")]
    private partial void LogRefusing(string server, int queued, string why, int maxQueuedPerSender, int maxQueued, long maxQueuedMiB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: caught up with PostgreSQL {Server}; {Refused} events from {Senders} senders were refused meanwhile and reached only this instance")]
    private partial void LogCaughtUp(string server, int refused, int senders);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: registered {Users} users of this instance ({Renamed} renamed: their nick was taken meanwhile)")]
    private partial void LogRegistered(int users, int renamed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: could not remove this instance from PostgreSQL {Server} at shutdown ({Error}); it expires by itself")]
    private partial void LogLeaveFailed(string server, string error);
}
