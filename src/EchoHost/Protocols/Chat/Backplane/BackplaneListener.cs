using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The connect loop: opens the LISTEN connection (and the schema), then the write loop's connection (a
/// <see cref="BackplaneSession"/>), keeps both checked, and heartbeats; when anything fails, the outage begins (one
/// warning), and it tries again with backoff until the database is back.
/// </summary>
internal sealed class BackplaneListener(
    BackplaneConnections connections, BackplaneRegistry registry, BackplaneDispatcher dispatcher, BackplaneWriter writer,
    IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings, ILogger logger)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the LISTEN connection is checked with a round trip: with <c>PostgresTimeout</c> (3 s by default), a
    /// database that stops answering is noticed within 5 s even when nobody says anything.
    /// </summary>
    private static readonly TimeSpan ListenCheckInterval = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private BackplaneSession? _session;
    private DateTimeOffset? _outageSince;

    /// <summary>The session to write on; null while unreachable (it may also have faulted since).</summary>
    public BackplaneSession? Session => Volatile.Read(ref _session);

    /// <summary>Completes with the first attempt to connect, whether it succeeded or not.</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    public bool EverConnected { get; private set; }

    /// <summary>Connected now (as far as the last attempt knows).</summary>
    public bool Connected => EverConnected && _outageSince is null;

    public async Task RunAsync(CancellationToken stopping)
    {
        var retry = FirstRetry;
        while (!stopping.IsCancellationRequested)
        {
            NpgsqlConnection? listen = null;
            NpgsqlConnection? writing = null;
            BackplaneSession? session = null;
            try
            {
                listen = await connections.OpenAsync(stopping);
                await connections.TimedAsync(listen, BackplaneSchema.EnsureAsync(listen, CancellationToken.None), stopping);
                listen.Notification += dispatcher.OnNotification;
                await ListenAsync(listen, stopping);

                writing = await connections.OpenAsync(stopping);
                await connections.ExecuteAsync(writing, stopping, BackplaneSql.SynchronousCommitOff);
                await registry.RegisterInstanceAsync(writing, stopping);
                session = new BackplaneSession(writing, stopping);
                writing = null; // the write loop owns it now
                Volatile.Write(ref _session, session);
                OnConnected();
                retry = FirstRetry;

                // Registers this instance's users now rather than with the next event.
                writer.Enqueue(new BackplaneHeartbeat(registry));
                var nextHeartbeat = time.GetUtcNow() + timings.HeartbeatInterval;
                var nextCheck = time.GetUtcNow() + ListenCheckInterval;
                while (true)
                {
                    // On a deadline, not on silence: every instance hears every NOTIFY (its own too), so with lines
                    // more often than the interval a wait would never time out.
                    // (Whole milliseconds: WaitAsync takes a timeout of 0 ms as "wait forever".)
                    var now = time.GetUtcNow();
                    if (nextHeartbeat - now < TimeSpan.FromMilliseconds(1))
                    {
                        writer.Enqueue(new BackplaneHeartbeat(registry));
                        nextHeartbeat = now + timings.HeartbeatInterval;
                        continue;
                    }

                    if (nextCheck - now < TimeSpan.FromMilliseconds(1))
                    {
                        // Notifications arriving prove nothing about a frozen server: a round trip, on a deadline.
                        await ListenAsync(listen, session.Fault);
                        nextCheck = time.GetUtcNow() + ListenCheckInterval;
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
                        connections.Abandon(listen, wait);
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
                    listen.Notification -= dispatcher.OnNotification;
                    await connections.DisposeQuietlyAsync(listen);
                }

                if (writing is not null)
                {
                    await connections.DisposeQuietlyAsync(writing);
                }
            }

            try
            {
                await Task.Delay(retry, time, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
        }
    }

    /// <summary>
    /// LISTENs on the channel: first to start hearing it, then again as the check of the connection (a no-op round
    /// trip that leaves the connection showing <c>LISTEN</c> in <c>pg_stat_activity</c>, as it did).
    /// </summary>
    private Task ListenAsync(NpgsqlConnection listen, CancellationToken ct) => connections.ExecuteAsync(listen, ct, BackplaneSql.Listen);

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private void OnConnected()
    {
        observer.Connected(true);
        if (!EverConnected)
        {
            EverConnected = true;
            logger.LogConnected(connections.Server, registry.Instance, BackplaneSchema.Version);
        }
        else if (_outageSince is { } since)
        {
            logger.LogReconnected(connections.Server, time.GetUtcNow() - since);
        }

        _outageSince = null;
        _firstAttempt.TrySetResult();
    }

    /// <summary>One warning per outage; every failed attempt counts as an error.</summary>
    private void OnUnreachable(Exception ex)
    {
        observer.Error();
        observer.Connected(false);
        if (_outageSince is null)
        {
            _outageSince = time.GetUtcNow();
            logger.LogUnreachable(connections.Server, ex.Message);
        }
        else
        {
            logger.LogRetryFailed(connections.Server, ex.Message);
        }

        _firstAttempt.TrySetResult();
    }
}
