using System.Text;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Protocols.Chat.Registration;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// The chat's connection handler on pipe pairs, with no socket: the bytes a line-protocol client reads, how a session
/// ends, and the notices of the line protocol itself (flood control, a line too long, shutdown). However a session
/// ends, the last line is <c>%end%</c>, the socket tutorials' end marker, so a lock-step client closes at once.
/// </summary>
public sealed class ChatConnectionHandlerTests
{
    private const string Welcome = "*** Welcome to EchoHost chat, {0}! /help lists commands, %end% leaves.\r\n";
    private const string End = "%end%\r\n";

    private readonly ManualTime _time = new();
    private readonly ChatOptions _options = new() { HistorySize = 0 };
    private readonly Lazy<ChatServer> _server;

    public ChatConnectionHandlerTests() => _server = new(() => TestChat.Server(_options, _time));

    private ChatConnectionHandler Handler(GreetingMode greeting = GreetingMode.Full) => new(
        _server.Value,
        TestChat.Renderer(_server.Value),
        new ListenerDefinition("Chat", ChatProtocol.Registration, BindAddress.Localhost, 0, TimeSpan.Zero, 0, 0, null) {
            OwnOptions = new ChatListenerOptions { Greeting = greeting },
        },
        TestMetrics.Listener("Chat", "chat"),
        _time,
        NullLoggerFactory.Instance);

    /// <summary>A client connected and welcomed into the lobby; the handler runs until the session ends.</summary>
    private async Task<(PipePair Pair, Task Running)> ConnectAsync(string nick, int members)
    {
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);
        await ExpectAsync(pair, string.Format(null, Welcome, nick) + $"*** You are now in lobby ({members} here)\r\n");
        return (pair, running);
    }

    /// <summary>A client connected as <see cref="ConnectAsync"/>, whose close requests (idle, slow reader) the test sees and makes.</summary>
    private async Task<(PipePair Pair, Task Running, CloseRequests Close)> ConnectWithCloseAsync(string nick, int members)
    {
        var pair = new PipePair(pauseWriterThreshold: 1024);
        var close = new CloseRequests(pair);
        pair.Connection.Features.Set<IConnectionCloseFeature>(close);
        var running = Handler().OnConnectedAsync(pair.Connection);
        await ExpectAsync(pair, string.Format(null, Welcome, nick) + $"*** You are now in lobby ({members} here)\r\n");
        return (pair, running, close);
    }

    /// <summary>Reads what the server writes until the session ends (the handler returns), and everything left after.</summary>
    private static async Task<string> ReadToEndAsync(PipePair pair, Task running)
    {
        var received = new List<byte>();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!running.IsCompleted)
        {
            received.AddRange(pair.DrainAvailable());
            await Task.WhenAny(running, Task.Delay(10, timeout.Token));
            timeout.Token.ThrowIfCancellationRequested();
        }

        await running;
        received.AddRange(pair.DrainAvailable());
        return Encoding.UTF8.GetString([.. received]);
    }

    private static async Task SendAsync(PipePair pair, string text) => await pair.Client.Output.WriteAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads exactly the bytes of <paramref name="expected"/> and checks them.</summary>
    private static async Task ExpectAsync(PipePair pair, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(await pair.ReadAsync(Encoding.UTF8.GetByteCount(expected))));

    [Fact]
    public async Task A_line_reaches_the_others_in_the_room_as_nick_and_text_with_crlf()
    {
        var (ana, anaRunning) = await ConnectAsync("guest-1", 1);
        var (bob, bobRunning) = await ConnectAsync("guest-2", 2);
        await ExpectAsync(ana, "*** guest-2 joined lobby\r\n");

        // nc sends LF, telnet CRLF; a line may come in pieces.
        await SendAsync(ana, "hola ");
        await SendAsync(ana, "a todos\n/nick ana\r\n");

        await ExpectAsync(bob, "<guest-1> hola a todos\r\n*** guest-1 is now known as ana\r\n");
        await ExpectAsync(ana, "*** You are now known as ana\r\n");

        await ana.Client.Output.CompleteAsync();
        await anaRunning.WaitAsync(TestTimeouts.Default);
        await ExpectAsync(bob, "*** ana left lobby (connection closed)\r\n");
        await bob.Client.Output.CompleteAsync();
        await bobRunning.WaitAsync(TestTimeouts.Default);
    }

    [Theory]
    [InlineData("%end%\n")]
    [InlineData("/quit bye\r\n")]
    public async Task Quitting_says_goodbye_and_ends_the_session(string line)
    {
        var (ana, running) = await ConnectAsync("guest-1", 1);

        await SendAsync(ana, line);

        await ExpectAsync(ana, "*** Goodbye, guest-1!\r\n" + End);
        await running.WaitAsync(TestTimeouts.Default);
        Assert.Empty(ana.DrainAvailable());
    }

    [Fact]
    public async Task A_minimal_greeting_is_the_welcome_line_alone_while_the_room_hears_the_join()
    {
        _options.HistorySize = 10;
        var (ana, anaRunning) = await ConnectAsync("guest-1", 1);
        await SendAsync(ana, "said before\n/who\n");
        await ExpectAsync(ana, "*** lobby (1): guest-1\r\n");

        var bob = new PipePair();
        var bobRunning = Handler(GreetingMode.Minimal).OnConnectedAsync(bob.Connection);

        await ExpectAsync(ana, "*** guest-2 joined lobby\r\n");
        await ExpectAsync(bob, string.Format(null, Welcome, "guest-2"));
        // No history, no "You are now in lobby": the next line bob reads is the next thing said.
        await SendAsync(ana, "hello\n");
        await ExpectAsync(bob, "<guest-1> hello\r\n");
        await SendAsync(bob, "%end%\n");
        Assert.Equal("*** Goodbye, guest-2!\r\n" + End, await ReadToEndAsync(bob, bobRunning));
        await ExpectAsync(ana, "*** guest-2 left lobby (quit)\r\n");
        await ana.Client.Output.CompleteAsync();
        await anaRunning.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task A_line_too_long_and_one_not_utf8_are_discarded_with_a_notice_each()
    {
        _options.MaxLineBytes = 16;
        var (ana, running) = await ConnectAsync("guest-1", 1);

        await SendAsync(ana, new string('x', 40) + "\n");
        await ana.Client.Output.WriteAsync(new byte[] { 0xC3, 0x28, (byte)'\n' });
        await SendAsync(ana, "/who\n");

        await ExpectAsync(ana, "!!! Line too long (max 16 bytes); discarded.\r\n!!! Line is not valid UTF-8; discarded.\r\n*** lobby (1): guest-1\r\n");
        await ana.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Flood_control_drops_lines_beyond_the_burst_with_one_notice_but_never_a_quit()
    {
        _options.FloodBurst = 2;
        _options.FloodLinesPerSecond = 1;
        var (ana, anaRunning) = await ConnectAsync("guest-1", 1);
        var (bob, bobRunning) = await ConnectAsync("guest-2", 2);
        await ExpectAsync(ana, "*** guest-2 joined lobby\r\n");

        // The clock stands still: no token comes back.
        await SendAsync(ana, "one\ntwo\nthree\nfour\n/quit\n");

        await ExpectAsync(bob, "<guest-1> one\r\n<guest-1> two\r\n");
        await ExpectAsync(ana, "!!! Flood control: slow down; lines are being dropped.\r\n*** Goodbye, guest-1!\r\n" + End);
        await anaRunning.WaitAsync(TestTimeouts.Default);
        await ExpectAsync(bob, "*** guest-1 left lobby (quit)\r\n");
        await bob.Client.Output.CompleteAsync();
        await bobRunning.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task A_close_request_says_the_server_is_shutting_down_and_the_room_is_not_told()
    {
        var (ana, anaRunning) = await ConnectAsync("guest-1", 1);
        var (bob, bobRunning) = await ConnectAsync("guest-2", 2);
        await ExpectAsync(ana, "*** guest-2 joined lobby\r\n");

        bob.RequestClose();

        Assert.Equal("*** Server is shutting down. Goodbye!\r\n" + End, await ReadToEndAsync(bob, bobRunning));
        await SendAsync(ana, "/who\n");
        await ExpectAsync(ana, "*** lobby (1): guest-1\r\n");
        await ana.Client.Output.CompleteAsync();
        await anaRunning.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task A_full_server_refuses_with_a_notice_and_ends_the_session()
    {
        _options.MaxUsers = 1;
        var (ana, running) = await ConnectAsync("guest-1", 1);

        var refused = new PipePair();
        await Handler().OnConnectedAsync(refused.Connection).WaitAsync(TestTimeouts.Default);

        await ExpectAsync(refused, "!!! Server full (1 users); try again later.\r\n" + End);
        Assert.Empty(refused.DrainAvailable());
        await ana.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task An_idle_timeout_says_so_then_ends_with_the_end_marker()
    {
        var (ana, anaRunning) = await ConnectAsync("guest-1", 1);
        var (bob, bobRunning, bobClose) = await ConnectWithCloseAsync("guest-2", 2);
        await ExpectAsync(ana, "*** guest-2 joined lobby\r\n");

        bobClose.RequestClose(CloseReason.IdleTimeout);

        Assert.Equal("*** Idle for 00:00:00; disconnecting.\r\n" + End, await ReadToEndAsync(bob, bobRunning));
        await ExpectAsync(ana, "*** guest-2 left lobby (idle)\r\n");
        await ana.Client.Output.CompleteAsync();
        await anaRunning.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task A_client_that_closes_its_side_still_gets_the_end_marker_last()
    {
        var (ana, running) = await ConnectAsync("guest-1", 1);

        await SendAsync(ana, "bye\n");
        await ana.Client.Output.CompleteAsync();

        Assert.Equal(End, await ReadToEndAsync(ana, running));
    }

    [Fact]
    public async Task A_slow_reader_cut_gets_the_notice_and_the_end_marker_behind_what_it_did_not_read_without_holding_up_its_departure()
    {
        _options.MaxQueuedBytes = 4096;
        _options.FloodBurst = 1000;
        var (ana, anaRunning, anaClose) = await ConnectWithCloseAsync("guest-1", 1);
        var (bob, bobRunning) = await ConnectAsync("guest-2", 2);

        // Ana reads nothing: her pipe fills (1 KiB), then her queue (4 KiB), and the next line cuts her.
        var line = new string('x', 100);
        for (var i = 0; i < 100 && anaClose.Reason is null; i++)
        {
            await SendAsync(bob, $"{i} {line}\n");
            await Task.Yield();
        }

        // She is gone from the room while still reading nothing: the last lines never wait for her.
        await ExpectAsync(bob, "*** guest-1 left lobby (too slow to read)\r\n");
        Assert.Equal(CloseReason.SlowReader, anaClose.Reason);

        var all = await ReadToEndAsync(ana, anaRunning);
        Assert.StartsWith("*** guest-2 joined lobby\r\n<guest-2> 0 x", all);
        Assert.EndsWith("\r\n!!! You are not reading fast enough; disconnecting.\r\n" + End, all);
        await bob.Client.Output.CompleteAsync();
        await bobRunning.WaitAsync(TestTimeouts.Default);
    }

    /// <summary>The connection's close feature as the pipeline gives it: the first reason wins, and the handler is asked to stop.</summary>
    private sealed class CloseRequests(PipePair pair) : IConnectionCloseFeature
    {
        private int _reason = -1;

        public CloseReason? Reason => CloseRequestReason;

        public CloseReason? CloseRequestReason => Volatile.Read(ref _reason) is var r and >= 0 ? (CloseReason)r : null;

        public bool RequestClose(CloseReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) != -1)
            {
                return false;
            }

            pair.RequestClose();
            return true;
        }
    }
}
