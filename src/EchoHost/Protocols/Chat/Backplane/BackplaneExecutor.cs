using System.Data;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The <see cref="BackplaneWriter"/>'s work on PostgreSQL: each batch in one round trip on the session the connect
/// loop opened (registering this instance's users first on a new one), each request in turn. A statement the server
/// refuses is an error that leaves its events here; any other failure gives the session up to the connect loop.
/// </summary>
internal sealed class BackplaneExecutor(
    BackplaneConnections connections, BackplaneListener listener, BackplaneRegistry registry, BackplaneStatements statements,
    IBackplaneObserver observer, ILogger logger) : IBackplaneBatchExecutor
{
    /// <summary>The session the write loop last wrote on (write loop only).</summary>
    private BackplaneSession? _owned;

    /// <summary>Statements are being refused (write loop only): warned once.</summary>
    private bool _refusing;

    public async Task PublishAsync(IReadOnlyList<BackplaneEvent> events, CancellationToken stopping)
    {
        var notifies = events.Sum(p => p.Notifies);
        BackplaneSession? session = null;
        try
        {
            session = _owned = await ReadySessionAsync(_owned, stopping);
            if (session is not { Faulted: false })
            {
                observer.Unpublished(notifies, UnpublishedReason.Unreachable);
                return;
            }

            // One round trip for everything queued, in order. Error barriers make each statement commit on its own:
            // one the server refuses loses only what it carried, not its neighbours.
            var carried = statements.For(events);
            await using var batch = new NpgsqlBatch(session.Connection) { EnableErrorBarriers = true };
            foreach (var (command, _) in carried)
            {
                batch.BatchCommands.Add(command);
            }

            try
            {
                await connections.TimedAsync(session.Connection, batch.ExecuteNonQueryAsync(CancellationToken.None), session.Fault);
            }
            catch (Exception ex) when (BackplaneStatements.Refusals(ex) is { } refusals && !session.Faulted && session.Connection.State == ConnectionState.Open)
            {
                var lost = BackplaneStatements.Lost(carried, refusals);
                observer.Published(notifies - lost);
                observer.Unpublished(lost, UnpublishedReason.StatementFailed);
                OnFailure(session, refusals[0], Math.Max(lost, refusals.Count));
                return;
            }

            observer.Published(notifies);
            _refusing = false;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            observer.Unpublished(notifies, UnpublishedReason.Unreachable);
            OnFailure(session, ex);
        }
    }

    public async Task RunAsync(BackplaneWork work, CancellationToken stopping)
    {
        var request = (BackplaneRequest)work;
        BackplaneSession? session = null;
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

    public void Abandon(BackplaneWork request) => ((BackplaneRequest)request).Unavailable();

    public async Task StoppedAsync()
    {
        if (_owned is not null)
        {
            await connections.DisposeQuietlyAsync(_owned.Connection);
        }
    }

    /// <summary>
    /// The session to write on, registered (this instance's users claimed again) if it is new; null while
    /// unreachable. A session the connect loop gave up is closed here, by its only user.
    /// </summary>
    private async Task<BackplaneSession?> ReadySessionAsync(BackplaneSession? owned, CancellationToken stopping)
    {
        var current = listener.Session;
        if (owned is not null && owned != current)
        {
            await connections.DisposeQuietlyAsync(owned.Connection);
        }

        if (current is null || current.Faulted)
        {
            return current;
        }

        if (current.NeedsRegistration)
        {
            try
            {
                await registry.RegisterUsersAsync(current.Connection, current.Fault);
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

    /// <summary>
    /// A statement the server refused (the connection is fine: a schema changed by hand, a missing privilege) is an
    /// error that leaves those events local, warned about once until statements succeed again; anything else means
    /// the connection is gone, and the connect loop takes over. Each refused statement of a batch is an error of its
    /// own, as the errors series counts statements.
    /// </summary>
    private void OnFailure(BackplaneSession? session, Exception ex, int refusedStatements = 1)
    {
        if (ex is PostgresException refused && session is { Faulted: false } && session.Connection.State == ConnectionState.Open)
        {
            observer.Error(refusedStatements);
            if (!_refusing)
            {
                _refusing = true;
                logger.LogRefused(connections.Server, refused.Message);
            }
            else
            {
                logger.LogRefusedAgain(connections.Server, refused.Message);
            }

            return;
        }

        session?.Fail(ex);
    }
}
