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
}
