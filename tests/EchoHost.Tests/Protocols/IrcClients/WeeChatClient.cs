using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Harness;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// WeeChat with no terminal (<c>weechat-headless</c>) in a temporary home (<c>--dir</c>), set up by its start-up
/// commands (<c>-r</c>): one server, the logger writing every line at once, the FIFO plugin on. The user's commands go
/// through the FIFO, addressed to the buffer they are typed in; what it displays is read from the logger's files.
/// </summary>
internal sealed class WeeChatClient : IIrcClient
{
    private const string Server = "echohost";
    private readonly string _home;
    private readonly ChildProcess _process;

    private WeeChatClient(string home, ChildProcess process)
    {
        _home = home;
        _process = process;
        Log = new ClientLog(Name, () => Directory.Exists(Logs) ? Directory.GetFiles(Logs, "*.weechatlog") : []);
    }

    public string Name => "WeeChat";

    public ClientLog Log { get; }

    public IrcClientLines Shows { get; } = new WeeChatLines();

    private string Logs => Path.Combine(_home, "logs");

    private string Fifo => Path.Combine(_home, "fifo");

    /// <summary>
    /// Starts WeeChat connecting to <paramref name="server"/> as <paramref name="nick"/>, joining <paramref name="channel"/>
    /// once registered (the server's autojoin); returns once its FIFO is open.
    /// </summary>
    public static async Task<WeeChatClient> StartAsync(IPEndPoint server, string nick, string channel)
    {
        var home = Directory.CreateTempSubdirectory("echohost-weechat-").FullName;
        string[] setup =
        [
            "/set logger.file.flush_delay 0", // written as displayed (the default waits 120 s)
            $"/set fifo.file.path {Path.Combine(home, "fifo")}",
            "/set fifo.file.enabled on",
            "/set irc.server_default.autoreconnect off",
            // On joining, the names list as a line (353), not only its count.
            "/set irc.look.display_join_message 329,332,333,353,366",
            $"/server add {Server} {server.Address}/{server.Port.ToString(CultureInfo.InvariantCulture)} -notls",
            $"/set irc.server.{Server}.nicks {nick}",
            $"/set irc.server.{Server}.username {nick}",
            $"/set irc.server.{Server}.realname EchoHost test",
            $"/set irc.server.{Server}.autojoin {channel}",
            $"/connect {Server}",
        ];
        var process = ChildProcess.Start(new ChildProcessOptions("WeeChat", "weechat-headless")
        {
            Arguments = ["--dir", home, "-r", string.Join(';', setup)],
            Environment = new Dictionary<string, string> { ["LANG"] = "C.UTF-8" },
            ScrubbedPrefixes = ["WEECHAT_"],
            WorkingDirectory = home,
            LogFile = Path.Combine(home, "weechat.out"),
            StopTimeout = TestTimeouts.Default,
        });
        var client = new WeeChatClient(home, process);
        var deadline = DateTime.UtcNow + TestTimeouts.Long;
        while (!File.Exists(client.Fifo))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await client.DisposeAsync();
                throw new InvalidOperationException($"WeeChat did not open its FIFO (exited: {process.HasExited}); its output:\n{process.Tail()}");
            }

            await Task.Delay(100);
        }

        return client;
    }

    public Task SayAsync(string channel, string text) => SendAsync($"irc.{Server}.{channel}", $"/say {text}");

    public Task ActAsync(string channel, string text) => SendAsync($"irc.{Server}.{channel}", $"/me {text}");

    public Task CommandAsync(string command) => SendAsync($"irc.server.{Server}", command);

    public async Task QuitAsync(string message)
    {
        await SendAsync("core.weechat", $"/quit {message}");
        await _process.WaitForExitAsync(TestTimeouts.Long);
    }

    /// <summary>One line to the FIFO: "buffer *text" runs the text as if typed in that buffer.</summary>
    private async Task SendAsync(string buffer, string text)
    {
        await using var fifo = new FileStream(Fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        await fifo.WriteAsync(Encoding.UTF8.GetBytes($"{buffer} *{text}\n"));
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The logger's "date time TAB prefix TAB message" lines.</summary>
    private sealed class WeeChatLines : IrcClientLines
    {
        public override Regex Message(string nick, string text) => new($"\t{Nick(nick)}\t{Text(text)}$");

        public override Regex Action(string nick, string text) => new($"\t \\*\t{Regex.Escape(nick)} {Text(text)}$");

        public override Regex Joined(string nick, string channel) => new($"\t-->\t{Regex.Escape(nick)} \\(.*\\) has joined {Regex.Escape(channel)}$");

        public override Regex Left(string nick, string channel) => new($"\t<--\t{Regex.Escape(nick)} \\(.*\\) has left {Regex.Escape(channel)}( |$)");

        public override Regex Quit(string nick) => new($"\t<--\t{Regex.Escape(nick)} \\(.*\\) has quit( |$)");

        public override Regex NickChanged(string oldNick, string newNick) => new($"\t--\t{Regex.Escape(oldNick)} is now known as {Regex.Escape(newNick)}$");

        public override Regex YouAreNow(string nick) => new($"\t--\tYou are now known as {Regex.Escape(nick)}$");

        public override Regex TopicChanged(string nick, string channel, string topic) =>
            new($"\t--\t{Regex.Escape(nick)} has changed topic for {Regex.Escape(channel)} (from \".*\" )?to \"{Text(topic)}\"$");

        public override Regex InNames(string channel, string nick) => new($"Nicks {Regex.Escape(channel)}: \\[(.* )?{Nick(nick)}( .*)?\\]");
    }
}
