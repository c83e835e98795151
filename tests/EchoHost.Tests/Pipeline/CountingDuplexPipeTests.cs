using System.Net;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class CountingDuplexPipeTests
{
    [Fact]
    public async Task Counts_each_byte_once_even_when_the_reader_leaves_some_unconsumed()
    {
        var pair = new PipePair();
        var session = new ConnectionSession("c1", TestListeners.Echo(), new IPEndPoint(IPAddress.Loopback, 1));
        var counted = new CountingDuplexPipe(pair.Connection.Transport, session, NullLogger.Instance);

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
}
