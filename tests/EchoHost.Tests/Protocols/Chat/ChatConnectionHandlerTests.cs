using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Protocols.Chat.Registration;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// The chat's connection handler on pipe pairs, with no socket: the bytes a line-protocol client reads, how a session
/// ends, and the notices of the line protocol itself (flood control, a line too long, shutdown).
/// </summary>
public sealed class ChatConnectionHandlerTests
{
    private const string Welcome = "*** Welcome to EchoHost chat, {0}! /help lists commands, %end% leaves.\r\n";

    private readonly ManualTime _time = new();
    private readonly ChatOptions _options = new() { HistorySize = 0 };
    private readonly Lazy<ChatServer> _server;

    public ChatConnectionHandlerTests() => _server = new(() => TestChat.Server(_options, _time));

    private ChatConnectionHandler Handler() => new(
        _server.Value,
        TestChat.Renderer(_server.Value),
        new ListenerDefinition("Chat", ChatProtocol.Registration, BindAddress.Localhost, 0, TimeSpan.Zero, 0, 0, null),
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

        await ExpectAsync(ana, "*** Goodbye, guest-1!\r\n");
        await running.WaitAsync(TestTimeouts.Default);
        Assert.Empty(ana.DrainAvailable());
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
        await ExpectAsync(ana, "!!! Flood control: slow down; lines are being dropped.\r\n*** Goodbye, guest-1!\r\n");
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

        await ExpectAsync(bob, "*** Server is shutting down. Goodbye!\r\n");
        await bobRunning.WaitAsync(TestTimeouts.Default);
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

        await ExpectAsync(refused, "!!! Server full (1 users); try again later.\r\n");
        await ana.Client.Output.CompleteAsync();
        await running.WaitAsync(TestTimeouts.Default);
    }
}
