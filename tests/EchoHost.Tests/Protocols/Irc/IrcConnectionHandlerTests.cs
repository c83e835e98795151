using System.Text;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Protocols.Irc;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Chat;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>The IRC handler on pipe pairs, with no socket, beside a line user of the same chat core.</summary>
public sealed class IrcConnectionHandlerTests
{
    private readonly ManualTime _time = new();
    private readonly ChatServer _server;

    public IrcConnectionHandlerTests() => _server = TestChat.Server(new ChatOptions { HistorySize = 0 }, _time);

    private IrcConnectionHandler Handler(TimeSpan idleTimeout = default) => new(
        _server,
        new ListenerDefinition("Irc", IrcProtocol.Registration, BindAddress.Localhost, 0, idleTimeout, 0, 0, null) { OwnOptions = new IrcListenerOptions() },
        TestMetrics.Listener("Irc", "irc"),
        _time,
        NullLoggerFactory.Instance);

    private static async Task SendAsync(PipePair pair, string text)
    {
        await pair.Client.Output.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Reads what the server writes until <paramref name="until"/> appears; returns all of it.</summary>
    private static async Task<string> ReadUntilAsync(PipePair pair, string until)
    {
        var text = new StringBuilder();
        while (!text.ToString().Contains(until, StringComparison.Ordinal))
        {
            var result = await pair.Client.Input.ReadAsync(TestTimeouts.Token());
            text.Append(Encoding.UTF8.GetString(result.Buffer));
            pair.Client.Input.AdvanceTo(result.Buffer.End);
            Assert.False(result.IsCompleted && !text.ToString().Contains(until, StringComparison.Ordinal), text.ToString());
        }

        return text.ToString();
    }

    [Fact]
    public async Task A_registered_client_talks_with_a_line_user_and_quits_with_error()
    {
        var line = new LinesOutbox();
        var lina = (await _server.ConnectAsync(line))!;
        await _server.ChangeNickAsync(lina, "lina");
        var pair = new PipePair();
        var running = Handler().OnConnectedAsync(pair.Connection);

        await SendAsync(pair, "NICK ana\r\nUSER ana 0 * :Ana\r\n");
        var burst = await ReadUntilAsync(pair, " 366 ana #lobby ");
        Assert.Contains(":ana!~chat@echohost JOIN #lobby\r\n", burst);
        Assert.Contains(":echohost 353 ana = #lobby :ana lina\r\n", burst);

        await _server.HandleAsync(lina, "hi ana");
        Assert.Contains(":lina!~chat@echohost PRIVMSG #lobby :hi ana\r\n", await ReadUntilAsync(pair, "hi ana\r\n"));
        await SendAsync(pair, "PRIVMSG #lobby :hi lina\r\nQUIT :done\r\n");
        Assert.EndsWith("ERROR :Closing link: ana (quit: done)\r\n", await ReadUntilAsync(pair, "ERROR"));
        await running;
        Assert.Contains("<ana> hi lina", line.Lines);
        Assert.Contains("*** ana left lobby (quit: done)", line.Lines);
    }

    /// <summary>
    /// A keepalive check that comes late (a busy machine: here the clock jumps past the whole timeout between two
    /// checks) pings the silent client first; it is cut only once that PING has gone unanswered for a check.
    /// </summary>
    [Fact]
    public async Task A_late_keepalive_check_pings_before_it_cuts()
    {
        var pair = new PipePair();
        var close = new CloseOnRequest(pair);
        pair.Connection.Features.Set<IConnectionCloseFeature>(close);
        var running = Handler(TimeSpan.FromSeconds(2)).OnConnectedAsync(pair.Connection);
        await SendAsync(pair, "NICK ana\r\nUSER ana 0 * :Ana\r\n");
        await ReadUntilAsync(pair, " 366 ana #lobby ");

        _time.Advance(TimeSpan.FromSeconds(10));
        var pinged = await ReadUntilAsync(pair, "PING :echohost\r\n");

        Assert.DoesNotContain("ERROR", pinged);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.EndsWith("ERROR :Closing link: ana (Ping timeout: 11 seconds)\r\n", await ReadUntilAsync(pair, "ERROR"));
        await running;
        Assert.Equal(CloseReason.IdleTimeout, close.CloseRequestReason);
    }

    /// <summary>The pipeline's close, as far as a handler sees it: the first reason wins and closing is requested.</summary>
    private sealed class CloseOnRequest(PipePair pair) : IConnectionCloseFeature
    {
        public CloseReason? CloseRequestReason { get; private set; }

        public bool RequestClose(CloseReason reason)
        {
            if (CloseRequestReason is not null)
            {
                return false;
            }

            CloseRequestReason = reason;
            pair.RequestClose();
            return true;
        }
    }
}
