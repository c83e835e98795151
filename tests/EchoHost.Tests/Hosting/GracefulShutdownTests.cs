using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>What an orchestrator sees when it stops a busy EchoHost with SIGTERM.</summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Sigterm_turns_readiness_off_drains_then_closes_echo_and_chat_and_exits_zero()
    {
        var httpPort = SocketExtensions.FreeLoopbackPort();
        await using var process = StartOnFreePorts(httpPort, new()
        {
            ["EchoHost__ShutdownDrainDelay"] = "00:00:02",
            // Far above what a clean shutdown needs: reaching it would abort connections and log a warning.
            ["EchoHost__ShutdownTimeout"] = "00:01:00",
        });
        var echo = new IPEndPoint(IPAddress.Loopback, await process.ListenerPortAsync("Echo"));
        var chat = new IPEndPoint(IPAddress.Loopback, await process.ListenerPortAsync("Chat"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };

        var echoSockets = new List<Socket>();
        for (var i = 0; i < 200; i++)
        {
            echoSockets.Add(await SocketExtensions.ConnectAsync(echo));
        }

        await Task.WhenAll(echoSockets.Select(s => s.AssertEchoesAsync()));
        var users = new List<ChatClient>();
        for (var i = 0; i < 5; i++)
        {
            users.Add(await ChatClient.ConnectAsync(chat));
        }

        foreach (var user in users)
        {
            await user.SyncAsync();
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz", TestTimeouts.Token())).StatusCode);

        process.Signal(HostProcess.SIGTERM);

        // Readiness turns 503 at once, while the listeners still serve during the drain.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await FirstNonOkAsync(http));
        using (var duringDrain = await SocketExtensions.ConnectAsync(echo))
        {
            await duringDrain.AssertEchoesAsync();
        }

        // Then every chat user hears the notice and every echo connection is closed cleanly.
        foreach (var user in users)
        {
            Assert.Equal(["*** Server is shutting down. Goodbye!", "%end%"], (await user.ReadToEndAsync()).TakeLast(2));
        }

        var closes = await Task.WhenAll(echoSockets.Select(s => s.ReceiveAsync(new byte[16], SocketFlags.None, TestTimeouts.Token(TestTimeouts.Process)).AsTask()));
        Assert.All(closes, read => Assert.Equal(0, read));

        // The listeners were closed before connections were asked to close: a newcomer is refused.
        var refused = await Assert.ThrowsAsync<SocketException>(() => SocketExtensions.ConnectAsync(echo));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.Equal(205, Regex.Matches(process.StandardOutput, @"closed \(server shutdown\)").Count);
        Assert.DoesNotContain(" WRN]", process.StandardOutput);
        Assert.DoesNotContain(" ERR]", process.StandardOutput);
        echoSockets.ForEach(s => s.Dispose());
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task A_shutdown_that_reaches_the_timeout_still_exits_zero_with_no_unhandled_exception()
    {
        var httpPort = SocketExtensions.FreeLoopbackPort();
        await using var process = StartOnFreePorts(httpPort, new() { ["EchoHost__ShutdownTimeout"] = "00:00:01" });

        await using var stuck = await StuckClient.ConnectAsync(process, httpPort);
        process.Signal(HostProcess.SIGTERM);

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.DoesNotContain("Unhandled exception", process.StandardOutput + process.StandardError);
    }

    [Fact]
    public async Task Clients_that_never_read_hold_shutdown_under_load_only_for_the_close_grace_not_the_shutdown_timeout()
    {
        var httpPort = SocketExtensions.FreeLoopbackPort();
        // Far beyond the test's own hang guard: if shutdown waited for it, the wait below would fail.
        await using var process = StartOnFreePorts(httpPort, new() { ["EchoHost__ShutdownTimeout"] = "00:10:00" });
        var echo = new IPEndPoint(IPAddress.Loopback, await process.ListenerPortAsync("Echo"));
        await using var stuck = await StuckClient.ConnectAsync(process, httpPort);
        await using var alsoStuck = await StuckClient.ConnectAsync(process, httpPort);

        // A load run in progress: clients exchanging verified messages until the server closes their connection.
        using var stop = new CancellationTokenSource();
        var exchanges = 0;
        var load = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var socket = await SocketExtensions.ConnectAsync(echo);
            var probe = "ping\n"u8.ToArray();
            try
            {
                while (true)
                {
                    await socket.SendAllAsync(probe);
                    var back = await socket.ReceiveExactlyAsync(probe.Length);
                    // What came back is the probe, or the start of it when the server closed the connection.
                    Assert.Equal(probe[..back.Length], back);
                    if (back.Length < probe.Length)
                    {
                        return;
                    }

                    Interlocked.Increment(ref exchanges);
                }
            }
            catch (SocketException)
            {
                // Reset after the server closed it.
            }
        })).ToList();
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref exchanges) > 200));

        process.Signal(HostProcess.SIGTERM);

        Assert.Equal(0, await process.WaitForExitAsync());
        await Task.WhenAll(load).WaitAsync(TestTimeouts.Process);
        Assert.Contains("closed (server shutdown)", process.StandardOutput);
        Assert.Contains("aborting", process.StandardOutput);
        Assert.DoesNotContain(" WRN]", process.StandardOutput);
    }

    /// <summary>
    /// An echo client that sends and never reads, connected once the server has taken a mebibyte from it: the
    /// server's socket keeps unsent bytes that nobody will take.
    /// </summary>
    private sealed class StuckClient : IAsyncDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        private readonly CancellationTokenSource _stopSending = new();
        private Task _sending = Task.CompletedTask;

        public static async Task<StuckClient> ConnectAsync(HostProcess process, int httpPort)
        {
            var client = new StuckClient();
            await client._socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, await process.ListenerPortAsync("Echo")));
            client._sending = client._socket.SendAsync(new byte[8 << 20], SocketFlags.None, client._stopSending.Token).AsTask();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };
            await WaitUntilAsync(async () =>
            {
                var connections = await http.GetFromJsonAsync<JsonElement[]>("connections", TestTimeouts.Token());
                return connections!.Any(c => c.GetProperty("bytesIn").GetInt64() > 1 << 20);
            });
            return client;
        }

        public async ValueTask DisposeAsync()
        {
            // However the send ended (all in the kernel's buffers, reset, or cancelled here) is not under test.
            await _stopSending.CancelAsync();
            await _sending.ContinueWith(_ => { }, TaskScheduler.Default);
            _socket.Dispose();
            _stopSending.Dispose();
        }
    }

    /// <summary>The built binary, configured by environment as a container would be, every listener on a free port.</summary>
    private static HostProcess StartOnFreePorts(int httpPort, Dictionary<string, string> settings) => HostProcess.Start([], new Dictionary<string, string>(settings)
    {
        ["EchoHost__Address"] = "127.0.0.1",
        ["EchoHost__Listeners__Echo__Port"] = "0",
        ["EchoHost__Listeners__Chat__Port"] = "0",
        ["EchoHost__Listeners__Irc__Port"] = "0",
        ["EchoHost__Listeners__Web__Port"] = "0",
        ["EchoHost__Listeners__UdpEcho__Port"] = "0",
        ["EchoHost__Http__Port"] = httpPort.ToString(),
        ["EchoHost__Http__ConnectionsEndpoint"] = "true",
    });

    /// <summary>Bounded polling: the timeout only guards against a hang.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls /readyz until it stops answering 200 (bounded: the hang guard only).</summary>
    private static async Task<HttpStatusCode> FirstNonOkAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (DateTime.UtcNow < deadline)
        {
            var status = (await http.GetAsync("readyz", TestTimeouts.Token())).StatusCode;
            if (status != HttpStatusCode.OK)
            {
                return status;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("/readyz kept answering 200 after SIGTERM");
    }
}
