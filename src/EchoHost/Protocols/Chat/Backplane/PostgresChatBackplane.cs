using EchoHost.Configuration;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The chat backplane on PostgreSQL (<c>EchoHost:Chat:Postgres</c>): rooms, nicks, membership and history shared by
/// every instance on the same database. Two connections per instance: one LISTENs and delivers what other instances
/// NOTIFY into the chat core (<see cref="BackplaneListener"/>, <see cref="BackplaneDispatcher"/>); the other is the
/// instance's only writer (<see cref="BackplaneWriter"/>, <see cref="BackplaneExecutor"/>), fed by one queue in the
/// order the core saw things happen, so each sender's lines arrive everywhere in order, many lines per round trip and
/// per NOTIFY whatever the number of recipients. When the database cannot be reached, the chat goes on locally: one
/// warning, questions answered "unavailable" at once (<see cref="BackplaneQueries"/>), events counted as unpublished;
/// the connections come back by themselves (with backoff), and then this instance's users are registered again
/// (<see cref="BackplaneRegistry"/>). Every operation has a deadline (<see cref="BackplaneConnections"/>).
/// <para>This class only composes those parts, and is the hosted service that runs them.</para>
/// </summary>
internal sealed class PostgresChatBackplane : BackgroundService, IChatBackplane
{
    /// <summary>How long start waits for the first connection, so the first users get shared guest nicks.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(5);

    private readonly IBackplaneObserver _observer;
    private readonly TimeProvider _time;
    private readonly BackplaneConnections _connections;
    private readonly BackplaneRegistry _registry;
    private readonly BackplaneDispatcher _dispatcher;
    private readonly BackplaneWriter _writer;
    private readonly BackplaneListener _listener;
    private readonly BackplaneExecutor _executor;
    private readonly BackplaneQueries _queries;

    public PostgresChatBackplane(ChatOptions options, IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings,
        BackplaneLimits limits, ILogger<PostgresChatBackplane> logger)
    {
        _observer = observer;
        _time = time;
        _connections = new BackplaneConnections(options, time);
        var server = _connections.Server;
        _registry = new BackplaneRegistry(options, _connections, observer, timings, () => _dispatcher!.Sink, logger);
        _dispatcher = new BackplaneDispatcher(_registry.InstanceKey, observer);
        _writer = new BackplaneWriter(limits, observer,
            (queued, oneSender) => logger.LogRefusing(server, queued, oneSender ? "a sender has more waiting than its share" : "the queue is full",
                limits.MaxQueuedPerSender, limits.MaxQueued, limits.MaxQueuedBytes >> 20),
            (refused, senders) => logger.LogCaughtUp(server, refused, senders));
        _listener = new BackplaneListener(_connections, _registry, _dispatcher, _writer, observer, time, timings, logger);
        var statements = new BackplaneStatements(_registry.Instance, _registry.InstanceKey, options.HistorySize, _registry.Wrote);
        _executor = new BackplaneExecutor(_connections, _listener, _registry, statements, observer, logger);
        _queries = new BackplaneQueries(_connections, _listener, _registry, _writer, observer, time, timings);
    }

    public void Attach(IChatBackplaneSink sink) => _dispatcher.Sink = sink;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        try
        {
            await _listener.FirstAttempt.WaitAsync(StartWait, _time, cancellationToken);
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
        if (_listener.Connected)
        {
            await _registry.LeaveAsync(cancellationToken);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _connections.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _observer.StartSeriesAtZero();
        return Task.WhenAll(_listener.RunAsync(stoppingToken), _writer.RunAsync(_executor, stoppingToken));
    }

    // ---- What the chat core tells and asks ----------------------------------------------------------------------

    public ValueTask<string?> ClaimGuestNickAsync(string room) => _queries.ClaimGuestNickAsync(room);

    public ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, string notice) =>
        _queries.RenameAsync(oldNick, newNick, room, notice);

    public LineRelay Said(string room, string line, DateTimeOffset at, string sender) =>
        Publish(BackplaneEvent.Said(sender, room, line, at));

    public void Entered(string nick, string room, string notice, (string Room, string Notice)? left = null) =>
        Publish(BackplaneEvent.Entered(nick, room, notice, left));

    public void Left(string nick, string room, string? notice) => Publish(BackplaneEvent.Left(nick, room, notice));

    public ValueTask<Shared<string?>> SendPrivateAsync(string nick, string line) => _queries.SendPrivateAsync(nick, line);

    public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) => _queries.WhoAsync(room);

    public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() => _queries.RoomsAsync();

    public ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count) => _queries.RoomAsync(room, count);

    /// <summary>Queues an event for the writer (see <see cref="BackplaneWriter.Publish"/>); while unreachable, it stays here.</summary>
    private LineRelay Publish(BackplaneEvent item)
    {
        if (_listener.Session is not { Faulted: false })
        {
            _observer.Unpublished(item.Notifies, UnpublishedReason.Unreachable);
            return LineRelay.Queued;
        }

        return _writer.Publish(item);
    }
}
