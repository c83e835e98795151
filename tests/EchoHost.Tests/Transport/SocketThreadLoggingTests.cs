using System.Collections.Concurrent;
using System.Net;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Transport;

/// <summary>
/// An echo connection's handler runs on the socket engine's thread, and the client's FIN arrives there; what follows
/// the handler in the pipeline (the access log) and what follows a PROXY header (a refusal's log line, the limits)
/// must run on the thread pool: Serilog's code, and anything that logs, has no business on that thread. Each log line
/// is recorded with whether it was written from a thread-pool thread.
/// </summary>
public sealed class SocketThreadLoggingTests
{
    [Fact]
    public async Task The_access_line_of_an_echo_connection_is_written_from_the_thread_pool()
    {
        var lines = new ThreadRecordingProvider();
        await using var host = await TestHost.StartAsync(customize: b => b.Logging.AddProvider(lines));

        for (var i = 0; i < 20; i++)
        {
            using var client = await SocketExtensions.ConnectAsync(host.EndPoint());
            await client.AssertEchoesAsync();
            client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.True(await client.WaitForServerCloseAsync());
        }

        var closed = await lines.WaitForAsync(l => l.Message.Contains("closed (closed by client)"), count: 20);
        Assert.All(closed, l => Assert.True(l.OnThreadPool, $"written on thread '{l.Thread}': {l.Message}"));
    }

    [Fact]
    public async Task A_bad_PROXY_header_on_an_echo_listener_is_logged_from_the_thread_pool()
    {
        var lines = new ThreadRecordingProvider();
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:ProxyProtocol"] = "V1",
            ["EchoHost:Listeners:Echo:TrustedProxies:0"] = "127.0.0.1",
        }, b => b.Logging.AddProvider(lines));

        for (var i = 0; i < 20; i++)
        {
            using var client = await SocketExtensions.ConnectAsync(host.EndPoint());
            // Sent after the connection is set up, so the header's bytes arrive on the socket engine's thread.
            await Task.Yield();
            await client.SendAllAsync("PROXY GARBAGE\r\n"u8.ToArray());
            Assert.True(await client.WaitForServerCloseAsync());
        }

        var refused = await lines.WaitForAsync(l => l.Message.Contains("bad PROXY protocol header"), count: 20);
        Assert.All(refused, l => Assert.True(l.OnThreadPool, $"written on thread '{l.Thread}': {l.Message}"));
    }

    private sealed record Line(string Message, bool OnThreadPool, string? Thread);

    private sealed class ThreadRecordingProvider : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<Line> _lines = new();

        public async Task<List<Line>> WaitForAsync(Func<Line, bool> match, int count)
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (true)
            {
                var found = _lines.Where(match).ToList();
                if (found.Count >= count)
                {
                    return found;
                }

                await Task.Delay(20, timeout.Token);
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _lines.Enqueue(new Line(formatter(state, exception), Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
            }
        }

        public void Dispose()
        {
        }
    }
}
