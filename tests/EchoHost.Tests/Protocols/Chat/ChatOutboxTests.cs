using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

public sealed class ChatOutboxTests
{
    [Fact]
    public async Task Overflow_refuses_more_and_is_raised_once_without_blocking_the_sender()
    {
        var outbox = new ChatOutbox(maxQueuedBytes: 1000);
        var raised = 0;
        var overflowed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        outbox.Overflowed += () =>
        {
            Interlocked.Increment(ref raised);
            overflowed.TrySetResult();
        };

        // Nobody runs the writer: every line stays queued.
        var accepted = Enumerable.Range(0, 50).Count(_ => outbox.TryEnqueue(new byte[100]));

        await overflowed.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal(10, accepted);
        Assert.True(outbox.HasOverflowed);
        Assert.False(outbox.TryEnqueue(new byte[1]));
        Assert.Equal(1, raised);
        Assert.InRange(outbox.HighWaterBytes, 0, 1000);
    }

    [Fact]
    public async Task Writer_sends_lines_in_order_and_ends_after_complete()
    {
        var pipe = new Pipe();
        var outbox = new ChatOutbox(maxQueuedBytes: 10_000);
        var writer = outbox.RunWriterAsync(pipe.Writer, TestTimeouts.Token());

        outbox.TryEnqueue(ChatMessages.Encode("one"));
        outbox.TryEnqueue(ChatMessages.Encode("two"));
        outbox.Complete();
        await writer.WaitAsync(TestTimeouts.Default);
        await pipe.Writer.CompleteAsync();

        var result = await pipe.Reader.ReadAsync();
        Assert.Equal("one\r\ntwo\r\n", System.Text.Encoding.UTF8.GetString(result.Buffer.ToArray()));
        Assert.Equal(0, outbox.QueuedBytes);
    }

    [Fact]
    public async Task Held_lines_wait_and_leave_with_the_last_line_in_one_write()
    {
        var pipe = new Pipe();
        var outbox = new ChatOutbox(maxQueuedBytes: 10_000);
        var writer = outbox.RunWriterAsync(pipe.Writer, TestTimeouts.Token());

        outbox.Hold();
        Assert.True(outbox.TryEnqueue(ChatMessages.Encode("goodbye")));
        Assert.False(pipe.Reader.TryRead(out _));

        outbox.Complete(ChatMessages.Encode("%end%"));
        await writer.WaitAsync(TestTimeouts.Default);
        Assert.True(pipe.Reader.TryRead(out var result));
        Assert.Equal("goodbye\r\n%end%\r\n", System.Text.Encoding.UTF8.GetString(result.Buffer.ToArray()));
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task Released_lines_are_written_and_later_ones_at_once_again()
    {
        var pipe = new Pipe();
        var outbox = new ChatOutbox(maxQueuedBytes: 10_000);
        _ = outbox.RunWriterAsync(pipe.Writer, TestTimeouts.Token());

        outbox.Hold();
        outbox.TryEnqueue(ChatMessages.Encode("welcome"));
        outbox.TryEnqueue(ChatMessages.Encode("history"));
        Assert.False(pipe.Reader.TryRead(out _));
        outbox.Release();
        outbox.TryEnqueue(ChatMessages.Encode("later"));

        Assert.True(pipe.Reader.TryRead(out var result));
        Assert.Equal("welcome\r\nhistory\r\nlater\r\n", System.Text.Encoding.UTF8.GetString(result.Buffer.ToArray()));
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task A_line_for_a_connection_that_keeps_up_is_written_and_flushed_by_the_sender_at_once()
    {
        var pipe = new Pipe();
        var outbox = new ChatOutbox(maxQueuedBytes: 10_000);
        _ = outbox.RunWriterAsync(pipe.Writer, TestTimeouts.Token());

        Assert.True(outbox.TryEnqueue(ChatMessages.Encode("one")));

        // No writer task had to run: the bytes are readable the moment TryEnqueue returns.
        Assert.True(pipe.Reader.TryRead(out var result));
        Assert.Equal("one\r\n", System.Text.Encoding.UTF8.GetString(result.Buffer.ToArray()));
        Assert.Equal(0, outbox.QueuedBytes);
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task While_a_flush_waits_for_the_client_lines_queue_and_then_follow_in_order()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        var outbox = new ChatOutbox(maxQueuedBytes: 10_000);
        var writer = outbox.RunWriterAsync(pipe.Writer, TestTimeouts.Token());

        var big = new string('x', 100);
        outbox.TryEnqueue(ChatMessages.Encode(big));
        outbox.TryEnqueue(ChatMessages.Encode("two"));
        outbox.TryEnqueue(ChatMessages.Encode("three"));
        // The first flush is past the pause threshold: the other lines wait in the outbox, not in the pipe.
        Assert.Equal(12, outbox.QueuedBytes);
        outbox.Complete();

        var received = new MemoryStream();
        while (true)
        {
            var result = await pipe.Reader.ReadAsync(TestTimeouts.Token());
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            pipe.Reader.AdvanceTo(result.Buffer.End);
            if (received.Length == 102 + 5 + 7)
            {
                break;
            }
        }

        await writer.WaitAsync(TestTimeouts.Default);
        Assert.Equal($"{big}\r\ntwo\r\nthree\r\n", System.Text.Encoding.UTF8.GetString(received.ToArray()));
        Assert.Equal(0, outbox.QueuedBytes);
    }

    [Fact]
    public async Task An_overflow_remembers_what_was_queued_and_the_line_that_did_not_fit()
    {
        // A /who answer bigger than the whole queue used to be logged as "78 bytes queued": the high-water mark only
        // counts what was accepted.
        var outbox = new ChatOutbox(maxQueuedBytes: 1000);
        var overflowed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        outbox.Overflowed += () => overflowed.TrySetResult();
        Assert.True(outbox.TryEnqueue(new byte[78]));

        Assert.False(outbox.TryEnqueue(new byte[24_726]));

        await overflowed.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal((78L, 24_726), outbox.AtOverflow);
    }

    [Fact]
    public void A_line_offered_within_a_limit_is_refused_beyond_it_and_the_user_is_not_cut()
    {
        var outbox = new ChatOutbox(maxQueuedBytes: 1000);
        var raised = false;
        outbox.Overflowed += () => raised = true;

        var accepted = Enumerable.Range(0, 10).Count(_ => outbox.TryEnqueueWithin(new byte[100], limit: 250));

        Assert.Equal(2, accepted);
        Assert.False(outbox.HasOverflowed);
        Assert.False(raised);
        // The user's own lines still have the rest of the queue.
        Assert.Equal(7, Enumerable.Range(0, 7).Count(_ => outbox.TryEnqueue(new byte[100])));
        Assert.False(outbox.HasOverflowed);
    }
}
