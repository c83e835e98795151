using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Echo;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Echo;

public sealed class EchoConnectionHandlerTests
{
    private static EchoConnectionHandler Handler(string? banner = null) =>
        new(TestListeners.Echo(banner: banner));

    [Fact]
    public async Task Echoes_each_partial_write_in_order()
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);

        foreach (var part in new[] { "he", "l", "lo wor", "ld\n" })
        {
            await pair.Client.Output.WriteAsync(Encoding.ASCII.GetBytes(part));
            Assert.Equal(part, Encoding.ASCII.GetString(await pair.ReadAsync(part.Length)));
        }

        await pair.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Echoes_every_byte_value_unmodified()
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(Encoding.UTF8.GetBytes("\r\n\0\u00ff")).ToArray();

        await pair.Client.Output.WriteAsync(all);

        Assert.Equal(all, await pair.ReadAsync(all.Length));
        await pair.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Zero_bytes_then_close_ends_with_nothing_sent()
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);

        await pair.Client.Output.WriteAsync(ReadOnlyMemory<byte>.Empty);
        await pair.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);

        Assert.Empty(pair.DrainAvailable());
    }

    [Fact]
    public async Task Four_mebibytes_come_back_exactly_while_written_and_read_concurrently()
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);
        var payload = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(payload);

        // The pipes hold 64 KiB each way, so the writer only finishes because the reader keeps draining.
        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < payload.Length; offset += 10_000)
            {
                await pair.Client.Output.WriteAsync(payload.AsMemory(offset, Math.Min(10_000, payload.Length - offset)));
            }

            await pair.Client.Output.CompleteAsync();
        });

        var echoed = await pair.ReadAsync(payload.Length);
        await writing.WaitAsync(TestTimeouts.Default);
        await running.WaitAsync(TestTimeouts.Default);
        Assert.Equal(payload, echoed);
    }

    [Fact]
    public async Task Half_close_sends_back_everything_then_the_handler_finishes()
    {
        var pair = new PipePair();
        var payload = Encoding.ASCII.GetBytes("last words before FIN");
        await pair.Client.Output.WriteAsync(payload);
        await pair.Client.Output.CompleteAsync();

        await Handler().OnConnectedAsync(pair.Connection).WaitAsync(TestTimeouts.Default);

        Assert.Equal(payload, pair.DrainAvailable());
    }

    [Fact]
    public async Task Stops_reading_while_the_client_does_not_read_and_resumes_when_it_does()
    {
        var pair = new PipePair(pauseWriterThreshold: 16 * 1024);
        var running = Handler().OnConnectedAsync(pair.Connection);
        var payload = new byte[1024 * 1024];
        Random.Shared.NextBytes(payload);

        // Nobody reads the echo, so the handler's flush waits and it stops draining its input; the client's own
        // flush therefore cannot complete until the client reads.
        var flush = pair.Client.Output.WriteAsync(payload).AsTask();
        var echoed = await pair.ReadAsync(payload.Length);

        await flush.WaitAsync(TestTimeouts.Default);
        Assert.Equal(payload, echoed);
        await pair.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Close_request_ends_a_waiting_read()
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);
        await pair.Client.Output.WriteAsync("x"u8.ToArray());
        await pair.ReadAsync(1);

        pair.RequestClose();

        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Close_request_ends_a_flush_blocked_by_a_client_that_does_not_read()
    {
        var pair = new PipePair(pauseWriterThreshold: 1024);
        var running = Handler().OnConnectedAsync(pair.Connection);
        _ = pair.Client.Output.WriteAsync(new byte[64 * 1024]).AsTask();

        pair.RequestClose();

        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Banner_is_sent_first_with_the_host_name()
    {
        var pair = new PipePair();
        var running = Handler("EchoHost on {host} ready").OnConnectedAsync(pair.Connection);
        var expected = $"EchoHost on {Environment.MachineName} ready\r\n";

        Assert.Equal(expected, Encoding.UTF8.GetString(await pair.ReadAsync(Encoding.UTF8.GetByteCount(expected))));
        await pair.Client.Output.WriteAsync("after\n"u8.ToArray());
        Assert.Equal("after\n", Encoding.ASCII.GetString(await pair.ReadAsync(6)));
        await pair.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }
}
