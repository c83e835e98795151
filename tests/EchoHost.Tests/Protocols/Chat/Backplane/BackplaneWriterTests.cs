using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>The backplane's writer without a database: its queue's shares, its batches, and what it says when it refuses.</summary>
public sealed class BackplaneWriterTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly Observer _observer = new();
    private readonly List<(int Queued, bool OneSender)> _refusing = [];
    private readonly List<(int Refused, int Senders)> _caughtUp = [];

    private BackplaneWriter Writer(int maxQueued, int perSender, long maxBytes = 1L << 30) =>
        new(new BackplaneLimits(maxQueued, perSender, maxBytes), _observer, (q, one) => _refusing.Add((q, one)), (r, s) => _caughtUp.Add((r, s)));

    private static BackplaneEvent Line(string sender, int i) => BackplaneEvent.Said(sender, "lobby", $"<{sender}> {i}", At);

    [Fact]
    public void A_sender_over_its_share_is_refused_and_told_once_while_a_bystander_still_goes()
    {
        var writer = Writer(maxQueued: 100, perSender: 5);

        var relays = Enumerable.Range(1, 10).Select(i => writer.Publish(Line("flooder", i))).ToList();

        Assert.Equal([.. Enumerable.Repeat(LineRelay.Queued, 5), LineRelay.Refused, .. Enumerable.Repeat(LineRelay.StillRefused, 4)], relays);
        Assert.Equal(LineRelay.Queued, writer.Publish(Line("alice", 1)));
        Assert.Equal(LineRelay.StillRefused, writer.Publish(Line("FLOODER", 11)));
        Assert.Equal(6, writer.Queued);
        Assert.Equal(6, _observer.Unpublished[UnpublishedReason.Backlog]);
        Assert.Equal([(5, true)], _refusing);
    }

    [Fact]
    public void Beyond_the_queue_limit_only_senders_below_the_average_are_taken_and_nothing_beyond_the_hard_limit()
    {
        var writer = Writer(maxQueued: 100, perSender: 50);
        for (var s = 0; s < 10; s++)
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(LineRelay.Queued, writer.Publish(Line($"user{s}", i)));
            }
        }

        // Full: ten senders with ten each, the average; one more from any of them is refused, a bystander's goes.
        Assert.Equal(LineRelay.Refused, writer.Publish(Line("user3", 10)));
        Assert.Equal(LineRelay.Queued, writer.Publish(Line("bystander", 1)));
        Assert.Equal(LineRelay.Queued, writer.Publish(Line("bystander", 2)));
        Assert.Equal([(100, false)], _refusing);

        // Newcomers keep their share until the hard limit, a tenth more; beyond it nothing goes, membership changes neither.
        for (var n = 0; writer.Queued < new BackplaneLimits(100, 50, 1L << 30).HardLimit; n++)
        {
            Assert.Equal(LineRelay.Queued, writer.Publish(Line($"new{n}", 1)));
        }

        Assert.Equal(110, writer.Queued);
        Assert.Equal(LineRelay.Refused, writer.Publish(Line("latecomer", 1)));
        Assert.Equal(LineRelay.StillRefused, writer.Publish(BackplaneEvent.Left("user1", "lobby", "*** user1 left lobby (quit)")));
        Assert.Equal(3, _observer.Unpublished[UnpublishedReason.Backlog]);
    }

    [Fact]
    public void Long_lines_fill_the_queue_by_what_they_hold_in_memory()
    {
        var line = BackplaneEvent.Said("ann", "lobby", new string('x', 2000), At);
        var writer = Writer(maxQueued: 1000, perSender: 1000, maxBytes: 10 * line.Bytes);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(LineRelay.Queued, writer.Publish(BackplaneEvent.Said($"user{i}", "lobby", line.Line!, At)));
        }

        Assert.Equal(LineRelay.Refused, writer.Publish(BackplaneEvent.Said("user1", "lobby", line.Line!, At)));
        Assert.Equal(LineRelay.Queued, writer.Publish(BackplaneEvent.Said("bystander", "lobby", "<bystander> hi", At)));
        Assert.Equal([(10, false)], _refusing);
    }

    [Fact]
    public void Membership_changes_are_not_refused_for_a_sender_and_below_the_queue_limit_nothing_is()
    {
        var writer = Writer(maxQueued: 10, perSender: 2);
        Assert.Equal(LineRelay.Queued, writer.Publish(BackplaneEvent.Entered("ann", "games", "*** ann joined games", ("lobby", "*** ann left lobby (joined games)"))));
        Assert.Equal(LineRelay.Queued, writer.Publish(Line("ann", 1)));
        Assert.Equal(LineRelay.Queued, writer.Publish(Line("ann", 2)));
        Assert.Equal(LineRelay.Queued, writer.Publish(BackplaneEvent.Left("ann", "games", "*** ann left games (quit)")));
        Assert.Equal(4, writer.Queued);
        Assert.Empty(_refusing);
    }

    [Fact]
    public async Task The_writer_takes_what_is_queued_in_batches_in_order_with_each_request_in_its_place()
    {
        var writer = Writer(maxQueued: 10_000, perSender: 10_000);
        var request = new Request();
        for (var i = 0; i < BackplaneWriter.MaxBatchEvents + 10; i++)
        {
            writer.Publish(Line("ann", i));
        }

        writer.Enqueue(request);
        writer.Publish(Line("bob", 1));
        var executor = new Executor(expectedEvents: BackplaneWriter.MaxBatchEvents + 11);
        using var stop = new CancellationTokenSource();
        var running = writer.RunAsync(executor, stop.Token);

        await executor.AllWritten.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal([$"{BackplaneWriter.MaxBatchEvents} events", "10 events", "request", "1 events"], executor.Calls);
        Assert.Equal(
            [.. Enumerable.Range(0, BackplaneWriter.MaxBatchEvents + 10).Select(i => $"<ann> {i}"), "<bob> 1"],
            executor.Events.Select(e => e.Line));
        await stop.CancelAsync();
        await running;
        Assert.Equal(0, writer.Queued);
        Assert.True(executor.Stopped);
    }

    [Fact]
    public async Task Once_the_writer_has_caught_up_the_episode_ends_with_its_counts_and_the_next_one_tells_senders_again()
    {
        var writer = Writer(maxQueued: 100, perSender: 3);
        Assert.Equal(
            [LineRelay.Queued, LineRelay.Queued, LineRelay.Queued, LineRelay.Refused, LineRelay.StillRefused],
            Enumerable.Range(0, 5).Select(i => writer.Publish(Line("flooder", i))));
        for (var i = 0; i < 6; i++)
        {
            writer.Publish(Line("other", i));
        }

        using var gate = new SemaphoreSlim(0);
        var executor = new Executor(expectedEvents: 6, gate);
        using var stop = new CancellationTokenSource();
        var running = writer.RunAsync(executor, stop.Token);
        gate.Release();
        await executor.AllWritten.Task.WaitAsync(TestTimeouts.Default);
        using (var deadline = new CancellationTokenSource(TestTimeouts.Default))
        {
            while (_caughtUp.Count == 0)
            {
                await Task.Delay(10, deadline.Token);
            }
        }

        Assert.Equal([(5, 2)], _caughtUp);
        Assert.Single(_refusing);

        // A new episode (the writer is held): the flooder is told again, and it is logged again.
        Assert.Equal(
            [LineRelay.Queued, LineRelay.Queued, LineRelay.Queued, LineRelay.Refused],
            Enumerable.Range(10, 4).Select(i => writer.Publish(Line("flooder", i))));
        Assert.Equal(2, _refusing.Count);
        gate.Release(10);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task An_event_the_stopped_writer_cannot_take_counts_as_unpublished_not_as_queued()
    {
        var writer = Writer(maxQueued: 100, perSender: 3);
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();
        await writer.RunAsync(new Executor(0), stop.Token);

        Assert.Equal(LineRelay.Queued, writer.Publish(Line("ann", 1)));
        Assert.Equal(0, writer.Queued);
        Assert.Equal(1, _observer.Unpublished[UnpublishedReason.Unreachable]);
        Assert.False(writer.Enqueue(new Request()));
    }

    private sealed class Request : BackplaneWork;

    /// <summary>Records what it is given; with a <paramref name="gate"/>, each round trip waits for one release.</summary>
    private sealed class Executor(int expectedEvents, SemaphoreSlim? gate = null) : IBackplaneBatchExecutor
    {
        public List<string> Calls { get; } = [];

        public List<BackplaneEvent> Events { get; } = [];

        public TaskCompletionSource AllWritten { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Stopped { get; private set; }

        public async Task PublishAsync(IReadOnlyList<BackplaneEvent> events, CancellationToken stopping)
        {
            if (gate is not null)
            {
                await gate.WaitAsync(stopping);
            }

            Calls.Add($"{events.Count} events");
            Events.AddRange(events);
            if (Events.Count == expectedEvents)
            {
                AllWritten.TrySetResult();
            }
        }

        public Task RunAsync(BackplaneWork request, CancellationToken stopping)
        {
            Calls.Add("request");
            return Task.CompletedTask;
        }

        public void Abandon(BackplaneWork request) => Calls.Add("abandoned");

        public Task StoppedAsync()
        {
            Stopped = true;
            return Task.CompletedTask;
        }
    }

    private sealed class Observer : IBackplaneObserver
    {
        public Dictionary<UnpublishedReason, int> Unpublished { get; } = Enum.GetValues<UnpublishedReason>().ToDictionary(r => r, _ => 0);

        public void Published(int messages)
        {
        }

        public void Received(int messages = 1)
        {
        }

        public void Error(int count = 1)
        {
        }

        void IBackplaneObserver.Unpublished(int messages, UnpublishedReason reason) => Unpublished[reason] += messages;

        public void Connected(bool connected)
        {
        }

        public void StartSeriesAtZero()
        {
        }
    }
}
