using System.Threading.Channels;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>Something for the writer: an event to publish (<see cref="BackplaneEvent"/>) or a request the executor runs in turn.</summary>
internal abstract class BackplaneWork;

/// <summary>What the chat core told the backplane, waiting to be written: a line said, a user who entered or left a room.</summary>
internal sealed class BackplaneEvent : BackplaneWork
{
    private BackplaneEvent(string? sender, int notifies, int weight)
    {
        Sender = sender;
        Notifies = notifies;
        Weight = weight;
    }

    /// <summary>Whose line it is, for the per-sender share; null for a membership change, which is never refused for a sender.</summary>
    public string? Sender { get; }

    /// <summary>The events the other instances hear from it (notices and lines), as counted on <c>/metrics</c>.</summary>
    public int Notifies { get; }

    /// <summary>About what it adds to a round trip, in characters.</summary>
    public int Weight { get; }

    /// <summary>About what it holds in memory while it waits: its strings and itself.</summary>
    public long Bytes => 160 + 2L * Weight;

    /// <summary>A line said (<see cref="Said"/>) or a membership change (the rest).</summary>
    public bool IsLine => Sender is not null;

    public string Room { get; private init; } = "";

    public string? Line { get; private init; }

    public DateTimeOffset At { get; private init; }

    public string? Nick { get; private init; }

    /// <summary>The notice the room hears, if any.</summary>
    public string? Notice { get; private init; }

    /// <summary>For a user gone (not moving to <see cref="Room"/>).</summary>
    public bool Gone { get; private init; }

    /// <summary>For a move: the room left and the notice it hears.</summary>
    public (string Room, string Notice)? LeftRoom { get; private init; }

    public static BackplaneEvent Said(string sender, string room, string line, DateTimeOffset at) =>
        new(sender, 1, room.Length + line.Length) { Room = room, Line = line, At = at };

    public static BackplaneEvent Entered(string nick, string room, string notice, (string Room, string Notice)? left) =>
        new(null, left is null ? 1 : 2, room.Length + notice.Length + (left?.Notice.Length ?? 0)) { Nick = nick, Room = room, Notice = notice, LeftRoom = left };

    public static BackplaneEvent Left(string nick, string room, string? notice) =>
        new(null, notice is null ? 0 : 1, room.Length + (notice?.Length ?? 0)) { Nick = nick, Room = room, Notice = notice, Gone = true };
}

/// <summary>Writes for the <see cref="BackplaneWriter"/>: the seam between its queue and the database.</summary>
internal interface IBackplaneBatchExecutor
{
    /// <summary>Publishes <paramref name="events"/>, in order, in one round trip; counts what it published and lost itself.</summary>
    Task PublishAsync(IReadOnlyList<BackplaneEvent> events, CancellationToken stopping);

    /// <summary>Runs a request, after every event queued before it.</summary>
    Task RunAsync(BackplaneWork request, CancellationToken stopping);

    /// <summary>A request that will not run (the writer stopped): answer it "unavailable".</summary>
    void Abandon(BackplaneWork request);

    /// <summary>The writer stopped: close what it used.</summary>
    Task StoppedAsync();
}

/// <summary>
/// The instance's only writer to the database: one queue, in the order the chat core saw things happen, taken in
/// batches of many events per round trip. The queue is bounded per sender and in all (<see cref="BackplaneLimits"/>):
/// a sender over its share is refused, not a bystander; whatever is refused stays on this instance, is counted with
/// its own reason, its sender is told (once per episode), and the log says when refusing starts and, with counts,
/// when the writer has caught up.
/// </summary>
internal sealed class BackplaneWriter
{
    /// <summary>At most this many events per round trip…</summary>
    public const int MaxBatchEvents = 4096;

    /// <summary>…and about this many characters of rooms and lines.</summary>
    public const int MaxBatchWeight = 1 << 20;

    private readonly Channel<BackplaneWork> _work = Channel.CreateUnbounded<BackplaneWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly BackplaneLimits _limits;
    private readonly IBackplaneObserver _observer;
    private readonly Action<int, bool> _refusing;
    private readonly Action<int, int> _caughtUp;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Sender> _senders = new(ChatNames.Comparer);
    private int _queued;
    private long _queuedBytes;
    private int _sendersWaiting;
    private bool _episode;
    private int _episodeRefused;
    private int _episodeSenders;

    /// <param name="refusing">The first refusal of an episode: events waiting, and whether for one sender over its share (logged by the caller).</param>
    /// <param name="caughtUp">The end of an episode, with everything queued written: events refused, senders told.</param>
    public BackplaneWriter(BackplaneLimits limits, IBackplaneObserver observer, Action<int, bool> refusing, Action<int, int> caughtUp)
    {
        _limits = limits;
        _observer = observer;
        _refusing = refusing;
        _caughtUp = caughtUp;
    }

    /// <summary>Events waiting for the database (taken for a round trip still count until it is done).</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _queued;
            }
        }
    }

    /// <summary>
    /// Queues an event, or refuses it: a line whose sender has <see cref="BackplaneLimits.MaxQueuedPerSender"/>
    /// waiting, or (beyond <see cref="BackplaneLimits.MaxQueued"/> events or <see cref="BackplaneLimits.MaxQueuedBytes"/>)
    /// at least the average sender's share; anything at the hard limits.
    /// </summary>
    public LineRelay Publish(BackplaneEvent item)
    {
        LineRelay relay;
        var startsEpisode = false;
        bool oneSender;
        int queued;
        lock (_lock)
        {
            queued = _queued;
            var sender = item.Sender is { } key ? _senders.GetValueOrDefault(key) : null;
            var waiting = sender?.Queued ?? 0;
            var full = _queued >= _limits.MaxQueued || _queuedBytes >= _limits.MaxQueuedBytes;
            var hard = _queued >= _limits.HardLimit || _queuedBytes >= _limits.HardLimitBytes;
            var admitted = item.IsLine
                ? waiting < _limits.MaxQueuedPerSender && (!full || (!hard && (long)waiting * Math.Max(_sendersWaiting, 1) < _queued))
                : !hard;
            oneSender = !full;
            if (admitted)
            {
                if (item.Sender is { } name)
                {
                    if (sender is null)
                    {
                        _senders[name] = sender = new Sender();
                    }

                    if (sender.Queued++ == 0)
                    {
                        _sendersWaiting++;
                    }
                }

                _queued++;
                _queuedBytes += item.Bytes;
                if (_work.Writer.TryWrite(item))
                {
                    return LineRelay.Queued;
                }

                // Stopped: nothing is written any more.
                _queued--;
                _queuedBytes -= item.Bytes;
                if (sender is not null && --sender.Queued == 0)
                {
                    _sendersWaiting--;
                }

                relay = LineRelay.Queued;
            }
            else
            {
                startsEpisode = !_episode;
                _episode = true;
                _episodeRefused += item.Notifies;
                relay = LineRelay.StillRefused;
                if (item.Sender is { } told)
                {
                    sender ??= _senders[told] = new Sender();
                    if (!sender.Told)
                    {
                        sender.Told = true;
                        _episodeSenders++;
                        relay = LineRelay.Refused;
                    }
                }
            }
        }

        if (relay == LineRelay.Queued)
        {
            _observer.Unpublished(item.Notifies, UnpublishedReason.Unreachable);
            return relay;
        }

        _observer.Unpublished(item.Notifies, UnpublishedReason.Backlog);
        if (startsEpisode)
        {
            _refusing(queued, oneSender);
        }

        return relay;
    }

    /// <summary>Queues a request behind every event queued so far; false when the writer has stopped.</summary>
    public bool Enqueue(BackplaneWork request) => _work.Writer.TryWrite(request);

    /// <summary>Runs until <paramref name="stopping"/>: events in batches, requests in turn, through <paramref name="executor"/>.</summary>
    public async Task RunAsync(IBackplaneBatchExecutor executor, CancellationToken stopping)
    {
        var reader = _work.Reader;
        var batch = new List<BackplaneEvent>();
        var weight = 0;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                while (reader.TryRead(out var work))
                {
                    if (work is BackplaneEvent item)
                    {
                        batch.Add(item);
                        weight += item.Weight;
                        if (batch.Count < MaxBatchEvents && weight < MaxBatchWeight)
                        {
                            continue;
                        }

                        await FlushAsync(executor, batch, stopping);
                        weight = 0;
                        continue;
                    }

                    await FlushAsync(executor, batch, stopping);
                    weight = 0;
                    await executor.RunAsync(work, stopping);
                }

                await FlushAsync(executor, batch, stopping);
                weight = 0;
                EndEpisodeIfCaughtUp();
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
                if (left is not BackplaneEvent)
                {
                    executor.Abandon(left);
                }
            }

            await executor.StoppedAsync();
        }
    }

    private async Task FlushAsync(IBackplaneBatchExecutor executor, List<BackplaneEvent> batch, CancellationToken stopping)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await executor.PublishAsync(batch, stopping);
        }
        finally
        {
            Written(batch);
            batch.Clear();
        }
    }

    /// <summary>The batch is out of the queue: its senders' shares go down (and a sender with nothing waiting is forgotten, unless told in this episode).</summary>
    private void Written(IReadOnlyList<BackplaneEvent> batch)
    {
        lock (_lock)
        {
            _queued -= batch.Count;
            foreach (var item in batch)
            {
                _queuedBytes -= item.Bytes;
                if (item.Sender is { } key && _senders.TryGetValue(key, out var sender) && --sender.Queued == 0)
                {
                    _sendersWaiting--;
                    if (!sender.Told)
                    {
                        _senders.Remove(key);
                    }
                }
            }
        }
    }

    private void EndEpisodeIfCaughtUp()
    {
        int refused;
        int senders;
        lock (_lock)
        {
            if (!_episode || _queued > 0)
            {
                return;
            }

            refused = _episodeRefused;
            senders = _episodeSenders;
            _episode = false;
            _episodeRefused = 0;
            _episodeSenders = 0;
            // Nothing waits: every sender left is one told in this episode, told again in the next.
            _senders.Clear();
            _sendersWaiting = 0;
        }

        _caughtUp(refused, senders);
    }

    private sealed class Sender
    {
        public int Queued;

        public bool Told;
    }
}
