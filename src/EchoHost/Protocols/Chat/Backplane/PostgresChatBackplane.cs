using System.Threading.Channels;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The chat backplane on PostgreSQL (<c>EchoHost:Chat:Postgres</c>): rooms, nicks, membership and history shared by
/// every instance on the same database: the chat core's shared <see cref="IChatBus"/>. Events cross as
/// <see cref="ChatEventCodec"/> text. Two connections per instance: one LISTENs and queues what other instances NOTIFY
/// as deliveries the core pulls (<see cref="BackplaneListener"/>, <see cref="BackplaneDispatcher"/>); the other is the
/// instance's only writer (<see cref="BackplaneWriter"/>, <see cref="BackplaneExecutor"/>), fed by one queue in the
/// order the core saw things happen, so each sender's lines arrive everywhere in order, many lines per round trip and
/// per NOTIFY whatever the number of recipients. When the database cannot be reached, the chat goes on locally: one
/// warning, questions answered "unavailable" at once (<see cref="BackplaneQueries"/>), events counted as unpublished;
/// the connections come back by themselves (with backoff), and then this instance's users are registered again
/// (<see cref="BackplaneRegistry"/>). Every operation has a deadline (<see cref="BackplaneConnections"/>).
/// <para>This class only composes those parts, and is the hosted service that runs them.</para>
/// </summary>
internal sealed class PostgresChatBackplane : BackgroundService, IChatBus
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
    private readonly BackplaneMembers _members = new();
    private readonly Channel<ChatDelivery> _deliveries = Channel.CreateUnbounded<ChatDelivery>(new() { SingleReader = true });

    public PostgresChatBackplane(ChatOptions options, IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings,
        BackplaneLimits limits, ILogger<PostgresChatBackplane> logger)
    {
        _observer = observer;
        _time = time;
        _connections = new BackplaneConnections(options, time);
        var server = _connections.Server;
        _registry = new BackplaneRegistry(options, _connections, observer, timings, _members, _deliveries.Writer, logger);
        _dispatcher = new BackplaneDispatcher(_registry.InstanceKey, observer, _deliveries.Writer);
        _writer = new BackplaneWriter(limits, observer,
            (queued, oneSender) => logger.LogRefusing(server, queued, oneSender ? "a sender has more waiting than its share" : "the queue is full",
                limits.MaxQueuedPerSender, limits.MaxQueued, limits.MaxQueuedBytes >> 20),
            (refused, senders) => logger.LogCaughtUp(server, refused, senders));
        _listener = new BackplaneListener(_connections, _registry, _dispatcher, _writer, observer, time, timings, logger);
        var statements = new BackplaneStatements(_registry.Instance, _registry.InstanceKey, options.HistorySize, _registry.Wrote);
        _executor = new BackplaneExecutor(_connections, _listener, _registry, statements, observer, logger);
        _queries = new BackplaneQueries(_connections, _listener, _registry, _writer, observer, time, timings);
    }

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

    public ChannelReader<ChatDelivery> Deliveries => _deliveries.Reader;

    public async ValueTask<string?> ClaimGuestNickAsync(string room)
    {
        var nick = await _queries.ClaimGuestNickAsync(room);
        if (nick is not null)
        {
            _members.Entered(nick, room);
        }

        return nick;
    }

    public async ValueTask<NickClaim> ClaimNickAsync(string nick, string room)
    {
        var claim = await _queries.ClaimNickAsync(nick, room);
        if (claim == NickClaim.Claimed)
        {
            _members.Entered(nick, room);
        }

        return claim;
    }

    public async ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, ChatEvent notice)
    {
        var claim = await _queries.RenameAsync(oldNick, newNick, room, ChatEventCodec.Encode(notice));
        // Unreachable, the core decides on what it knows: the user is registered again under the new nick.
        if (claim != NickClaim.Taken)
        {
            _members.Renamed(oldNick, newNick, room);
        }

        return claim;
    }

    public LineRelay Said(string room, ChatEvent message, DateTimeOffset at, string sender) =>
        Publish(BackplaneEvent.Said(sender, room, ChatEventCodec.Encode(message), at));

    public void Entered(string nick, string room, ChatEvent notice, (string Room, ChatEvent Notice)? left = null)
    {
        _members.Entered(nick, room);
        Publish(BackplaneEvent.Entered(nick, room, ChatEventCodec.Encode(notice), left is { } from ? (from.Room, ChatEventCodec.Encode(from.Notice)) : null));
    }

    public void Left(string nick, string room, ChatEvent? notice)
    {
        _members.Left(nick);
        Publish(BackplaneEvent.Left(nick, room, notice is null ? null : ChatEventCodec.Encode(notice)));
    }

    public ValueTask<Shared<string?>> SendPrivateAsync(string nick, ChatEvent message) => _queries.SendPrivateAsync(nick, ChatEventCodec.Encode(message));

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
