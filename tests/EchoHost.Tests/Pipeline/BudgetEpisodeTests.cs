using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;
using ITimer = System.Threading.ITimer;

namespace EchoHost.Tests.Pipeline;

/// <summary>The budgets' decisions and their one log line per episode, without a process or a socket.</summary>
public sealed class BudgetEpisodeTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public void Memory_refuses_only_once_a_collection_confirms_the_reading_and_logs_once_per_episode()
    {
        using var logs = new LogCapture();
        var time = new TimeWithoutTimers();
        long heap = 10 * MiB, afterCollection = 10 * MiB;
        var collections = 0;
        using var budget = new MemoryBudget(100 * MiB, time, logs.CreateLogger("test"), collect =>
        {
            collections += collect ? 1 : 0;
            return collect ? heap = afterCollection : heap;
        });

        // Over by a reading that counts garbage, which the collection removes: nobody is refused.
        heap = 150 * MiB;
        budget.Sample();
        Assert.Equal(1, collections);
        Assert.True(budget.TryAdmit(out _));

        // Really over: refused with the reason, one line however many readings follow.
        heap = afterCollection = 120 * MiB;
        time.Advance(MemoryBudget.ConfirmInterval);
        budget.Sample();
        Assert.False(budget.TryAdmit(out var reason));
        Assert.Equal("memory", reason);
        for (var i = 0; i < 5; i++)
        {
            time.Advance(MemoryBudget.ConfirmInterval);
            budget.Sample();
        }

        Assert.False(budget.TryAdmit(out _));
        Assert.Single(logs.Entries, e => e.Message.StartsWith("Memory budget reached: 120 MiB"));

        // Just under the budget is not yet the end of the episode; 5 % under is.
        heap = afterCollection = 99 * MiB;
        time.Advance(MemoryBudget.ConfirmInterval);
        budget.Sample();
        Assert.False(budget.TryAdmit(out _));
        heap = afterCollection = 90 * MiB;
        time.Advance(MemoryBudget.ConfirmInterval);
        budget.Sample();
        Assert.True(budget.TryAdmit(out _));
        var recovered = Assert.Single(logs.Entries, e => e.Message.StartsWith("Memory back under budget"));
        Assert.Contains("(3 not admitted meanwhile)", recovered.Message);
    }

    [Fact]
    public void Memory_outside_the_heap_counts_against_the_budget()
    {
        using var logs = new LogCapture();
        var time = new TimeWithoutTimers();
        var handshakes = new TlsHandshakeMemory();
        using var budget = new MemoryBudget(100 * MiB, time, logs.CreateLogger("test"), _ => 60 * MiB, outsideHeapBytes: () => handshakes.Bytes);

        budget.Sample();
        Assert.True(budget.TryAdmit(out _));

        // 60 MiB of heap and 150 stalled handshakes (about 42 MiB) are over a 100 MiB budget together.
        for (var i = 0; i < 150; i++)
        {
            handshakes.Started();
        }

        time.Advance(MemoryBudget.ConfirmInterval);
        budget.Sample();
        Assert.False(budget.TryAdmit(out var reason));
        Assert.Equal("memory", reason);

        for (var i = 0; i < 150; i++)
        {
            handshakes.Ended();
        }

        time.Advance(MemoryBudget.ConfirmInterval);
        budget.Sample();
        Assert.True(budget.TryAdmit(out _));
    }

    [Fact]
    public void Memory_budget_of_zero_admits_everything_and_samples_nothing()
    {
        using var logs = new LogCapture();
        using var budget = new MemoryBudget(0, new TimeWithoutTimers(), logs.CreateLogger("test"), _ => throw new InvalidOperationException("sampled"));
        Assert.True(budget.TryAdmit(out _));
    }

    [Fact]
    public void Descriptors_leave_the_reserve_and_what_else_is_open_and_log_once_per_episode()
    {
        using var logs = new LogCapture();
        DescriptorBudget budget = null!;
        budget = new DescriptorBudget(logs.CreateLogger("test"), () => 30 + budget.Active);
        budget.Configure(limit: 100, reserve: 30);
        Assert.Equal(40, budget.Capacity);

        for (var i = 0; i < 40; i++)
        {
            Assert.True(budget.TryAcquire(out _));
        }

        Assert.False(budget.TryAcquire(out var reason));
        Assert.Equal("descriptors", reason);
        Assert.False(budget.TryAcquire(out _));
        Assert.Single(logs.Entries, e => e.Message.StartsWith("Descriptor budget reached: 40 client connections"));

        // One free slot is taken again at once, without ending the episode (no pair of lines per connection).
        budget.Release();
        Assert.True(budget.TryAcquire(out _));
        Assert.DoesNotContain(logs.Entries, e => e.Message.StartsWith("Descriptors back under budget"));

        // 5 % of the capacity free ends it.
        budget.Release();
        budget.Release();
        Assert.Single(logs.Entries, e => e.Message.StartsWith("Descriptors back under budget: 38 of 40"));
        Assert.Equal(38, budget.Active);
    }

    [Fact]
    public void Descriptors_taken_by_others_later_shrink_the_capacity_and_the_limit_itself_is_said_once()
    {
        using var logs = new LogCapture();
        var others = 30;
        DescriptorBudget budget = null!;
        budget = new DescriptorBudget(logs.CreateLogger("test"), () => others + budget.Active);
        budget.Configure(limit: 100, reserve: 30);
        Assert.Equal(40, budget.Capacity);

        // Something else (the database, files) opened 60 more, up to the limit.
        others = 99;
        budget.Check();
        budget.Check();
        Assert.Equal(0, budget.Capacity);
        Assert.False(budget.TryAcquire(out _));
        Assert.Single(logs.Entries, e => e.Message.StartsWith("Open-file limit reached: 99 of 100"));

        others = 30;
        budget.Check();
        Assert.Equal(40, budget.Capacity);
        Assert.Single(logs.Entries, e => e.Message.StartsWith("Open-file limit no longer reached: 30 of 100"));
    }

    [Fact]
    public void Descriptors_are_not_limited_before_configuration_or_without_a_limit()
    {
        using var logs = new LogCapture();
        var budget = new DescriptorBudget(logs.CreateLogger("test"), () => 10);
        Assert.True(budget.TryAcquire(out _));
        budget.Configure(limit: long.MaxValue, reserve: 128);
        Assert.Equal(int.MaxValue, budget.Capacity);
        Assert.True(budget.TryAcquire(out _));
    }

    /// <summary>A clock the test moves, whose timers never fire: the test calls <see cref="MemoryBudget.Sample"/> itself.</summary>
    private sealed class TimeWithoutTimers : TimeProvider
    {
        private long _now = 1_000_000;

        public override long TimestampFrequency => 1_000;

        public override long GetTimestamp() => _now;

        public void Advance(TimeSpan by) => _now += (long)by.TotalMilliseconds;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NoTimer();

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }
}
