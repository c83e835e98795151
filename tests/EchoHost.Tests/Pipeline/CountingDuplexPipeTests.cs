using System.Net;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Transport;
using Microsoft.Extensions.Logging.Abstractions;

using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class CountingDuplexPipeTests
{
    [Fact]
    public async Task Counts_each_byte_once_even_when_the_reader_leaves_some_unconsumed()
    {
        var (pair, session, counted) = Counted();

        await pair.Client.Output.WriteAsync("abcdef"u8.ToArray());
        var first = await counted.Input.ReadAsync();
        counted.Input.AdvanceTo(first.Buffer.GetPosition(2), first.Buffer.End); // consume "ab", keep "cdef"
        await pair.Client.Output.WriteAsync("gh"u8.ToArray());
        var second = await counted.Input.ReadAsync();
        Assert.Equal(6, second.Buffer.Length);
        counted.Input.AdvanceTo(second.Buffer.End);

        await counted.Output.WriteAsync("12345"u8.ToArray());
        counted.Output.GetSpan(3)[..3].Fill((byte)'x');
        counted.Output.Advance(3);
        await counted.Output.FlushAsync();

        Assert.Equal(8, session.BytesIn);
        Assert.Equal(8, session.BytesOut);
        Assert.False(session.InputCompleted);
        await pair.Client.Output.CompleteAsync();
        var last = await counted.Input.ReadAsync();
        Assert.True(last.IsCompleted);
        Assert.True(session.InputCompleted);
    }

    [Fact]
    public async Task A_read_that_waits_for_data_returns_it_counted_again_and_again()
    {
        var (pair, session, counted) = Counted();

        // The reader's own wait is reused read after read: each must see its own bytes, in order.
        for (var i = 0; i < 3; i++)
        {
            var read = counted.Input.ReadAsync();
            Assert.False(read.IsCompleted);
            await pair.Client.Output.WriteAsync(new byte[] { (byte)i, (byte)i });
            var result = await read;
            Assert.Equal(new byte[] { (byte)i, (byte)i }, result.Buffer.ToArray());
            counted.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(6, session.BytesIn);
        var last = counted.Input.ReadAsync();
        await pair.Client.Output.CompleteAsync();
        Assert.True((await last).IsCompleted);
        Assert.True(session.InputCompleted);
    }

    [Fact]
    public async Task A_waiting_read_ends_canceled_on_cancel_pending_read_and_faulted_when_the_peer_fails()
    {
        var (pair, session, counted) = Counted();

        var read = counted.Input.ReadAsync();
        counted.Input.CancelPendingRead();
        var canceled = await read;
        Assert.True(canceled.IsCanceled);
        counted.Input.AdvanceTo(canceled.Buffer.End);

        using var cancellation = new CancellationTokenSource();
        var tokenRead = counted.Input.ReadAsync(cancellation.Token);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await tokenRead);

        var failing = counted.Input.ReadAsync();
        await pair.Client.Output.CompleteAsync(new IOException("connection reset"));
        var error = await Assert.ThrowsAsync<IOException>(async () => await failing);
        Assert.Equal("connection reset", error.Message);
        Assert.Equal(0, session.BytesIn);
    }

    /// <summary>A pipe pair whose server side is wrapped in the counting pipe, and the session it counts into.</summary>
    [Fact]
    public async Task On_the_socket_engines_thread_every_1024th_read_waits_its_turn_in_the_thread_pool_and_brings_its_bytes()
    {
        var (pair, session, counted) = Counted(budgeted: true);

        // Data always there: every read could complete at once, but the one that ends a turn is handed over through
        // the thread pool's queue (Transport/SocketThreadBudget), and must still bring exactly its bytes.
        var deferred = 0;
        for (var i = 0; i < 2 * SocketThreadBudget.MaxReads; i++)
        {
            await pair.Client.Output.WriteAsync(new[] { (byte)i });
            var read = counted.Input.ReadAsync();
            deferred += read.IsCompleted ? 0 : 1;
            var result = await read;
            Assert.Equal(new[] { (byte)i }, result.Buffer.ToArray());
            counted.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(2, deferred);

        // Reads that wait for their data: the one that ends a turn comes from the pool too.
        for (var i = 0; i < SocketThreadBudget.MaxReads; i++)
        {
            var read = counted.Input.ReadAsync();
            await pair.Client.Output.WriteAsync(new[] { (byte)i });
            var result = await read;
            Assert.Equal(new[] { (byte)i }, result.Buffer.ToArray());
            counted.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(3 * SocketThreadBudget.MaxReads, session.BytesIn);
    }

    private static (PipePair Pair, ConnectionSession Session, CountingDuplexPipe Counted) Counted(bool budgeted = false)
    {
        var pair = new PipePair();
        var session = new ConnectionSession("c1", TestListeners.Echo(), new IPEndPoint(IPAddress.Loopback, 1));
        return (pair, session, new CountingDuplexPipe(pair.Connection.Transport, session, NullLogger.Instance, budgeted: budgeted));
    }
}
