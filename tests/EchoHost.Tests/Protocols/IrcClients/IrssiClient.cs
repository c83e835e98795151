using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Harness;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// irssi as a user runs it: in a terminal (a tmux session of its own, on a socket in the client's temporary home), the
/// user's keys sent with <c>tmux send-keys</c>. What it displays is asserted on from its own log of every window
/// (<c>/log open … ALL</c> in its startup file), which is what the screen shows, line by line, without scraping.
/// </summary>
internal sealed class IrssiClient : IIrcClient
{
    private const string Session = "irc";
    private readonly string _home;
    private readonly string _socket;

    private IrssiClient(string home)
    {
        _home = home;
        _socket = Path.Combine(home, "tmux.sock");
        Log = new ClientLog(Name, () => [Path.Combine(home, "all.log")], ScreenAsync);
    }

    public string Name => "irssi";

    public ClientLog Log { get; }

    public IrcClientLines Shows { get; } = new IrssiLines();

    /// <summary>
    /// Starts irssi connecting to <paramref name="server"/> as <paramref name="nick"/>, joining <paramref name="channel"/>
    /// once registered (the network's autojoin, as a user sets it up: what is typed before registration is lost);
    /// returns once its log is open.
    /// </summary>
    public static async Task<IrssiClient> StartAsync(IPEndPoint server, string nick, string channel)
    {
        var home = Directory.CreateTempSubdirectory("echohost-irssi-").FullName;
        var port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // `-c address -p port` picks the server entry with that address and port, and with it the network's autojoin.
        await WriteConfigurationAsync(home, home, nick, $$"""
            servers = ( { address = "{{server.Address}}"; port = "{{port}}"; chatnet = "test"; } );
            chatnets = { test = { type = "IRC"; }; };
            channels = ( { name = "{{channel}}"; chatnet = "test"; autojoin = "yes"; } );
            """);
        return await StartAsync(home, ["irssi", $"--home={home}", "-n", nick, "-c", server.Address.ToString(), "-p", port]);
    }

    /// <summary>
    /// Runs a shell command line that starts irssi, as written (the README's): HOME is the client's temporary home, so
    /// the ~/.irssi it reads (a configuration naming <paramref name="nick"/>) and writes is there, never the user's.
    /// </summary>
    public static async Task<IrssiClient> StartCommandAsync(string commandLine, string nick)
    {
        var home = Directory.CreateTempSubdirectory("echohost-irssi-").FullName;
        await WriteConfigurationAsync(home, Directory.CreateDirectory(Path.Combine(home, ".irssi")).FullName, nick, "");
        return await StartAsync(home, ["-e", $"HOME={home}", "bash", "-c", commandLine]);
    }

    /// <summary>
    /// irssi's configuration and startup commands in <paramref name="folder"/>: no autosave (the home is thrown away),
    /// UTF-8 whatever the test's locale, no nick mode column, and a log of every window in the home.
    /// </summary>
    private static async Task WriteConfigurationAsync(string home, string folder, string nick, string servers)
    {
        await File.WriteAllTextAsync(Path.Combine(folder, "config"), $$"""
            {{servers}}
            settings = {
              core = { real_name = "EchoHost test"; user_name = "{{nick}}"; nick = "{{nick}}"; settings_autosave = "no"; };
              "fe-common/core" = { term_charset = "UTF-8"; show_nickmode_empty = "no"; };
            };
            """);
        await File.WriteAllTextAsync(Path.Combine(folder, "startup"), $"/log open {Path.Combine(home, "all.log")} ALL\n");
    }

    /// <summary>A tmux session of its own running <paramref name="command"/>; returns once irssi's log is open.</summary>
    private static async Task<IrssiClient> StartAsync(string home, string[] command)
    {
        var client = new IrssiClient(home);
        await client.TmuxAsync(["new-session", "-d", "-s", Session, "-x", "200", "-y", "50", "-e", "LANG=C.UTF-8", .. command]);
        await client.Log.WaitForTextAsync("Log file");
        return client;
    }

    public Task SayAsync(string channel, string text) => TypeAsync($"/msg {channel} {text}");

    public Task ActAsync(string channel, string text) => TypeAsync($"/action {channel} {text}");

    public Task CommandAsync(string command) => TypeAsync(command);

    public async Task QuitAsync(string message)
    {
        await TypeAsync($"/quit {message}");
        // The session ends with irssi, and the tmux server with its last session.
        var deadline = DateTime.UtcNow + TestTimeouts.Long;
        while ((await TmuxAsync(check: false, "has-session", "-t", Session)).ExitCode == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"irssi did not exit after /quit; its screen:\n{await ScreenAsync()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Types a line and Enter: the keys are sent literally, so nothing in the text is read as a key name.</summary>
    private async Task TypeAsync(string line)
    {
        await TmuxAsync("send-keys", "-t", Session, "-l", "--", line);
        await TmuxAsync("send-keys", "-t", Session, "Enter");
    }

    private async Task<string> ScreenAsync() => (await TmuxAsync(check: false, "capture-pane", "-p", "-t", Session)).StandardOutput;

    private Task<ProcessResult> TmuxAsync(params string[] arguments) => TmuxAsync(check: true, arguments);

    private async Task<ProcessResult> TmuxAsync(bool check, params string[] arguments)
    {
        // Its own server (-S) with no configuration (-f): neither the user's tmux nor their ~/.tmux.conf is involved.
        var result = await ProcessRunner.RunAsync("tmux", ["-S", _socket, "-f", "/dev/null", .. arguments], TestTimeouts.Default);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result.CommandLine} exited {result.ExitCode}: {result.StandardError}");
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await TmuxAsync(check: false, "kill-server");
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>irssi's default theme, after the log's "HH:MM " time.</summary>
    private sealed class IrssiLines : IrcClientLines
    {
        public override Regex Message(string nick, string text) => new($"<{Nick(nick)}> {Text(text)}$");

        public override Regex Action(string nick, string text) => new($"\\* {Regex.Escape(nick)} {Text(text)}$");

        public override Regex Joined(string nick, string channel) => new($"-!- {Regex.Escape(nick)} \\[.*\\] has joined {Regex.Escape(channel)}$");

        public override Regex Left(string nick, string channel) => new($"-!- {Regex.Escape(nick)} \\[.*\\] has left {Regex.Escape(channel)}( |$)");

        public override Regex Quit(string nick) => new($"-!- {Regex.Escape(nick)} \\[.*\\] has quit( |$)");

        public override Regex NickChanged(string oldNick, string newNick) => new($"-!- {Regex.Escape(oldNick)} is now known as {Regex.Escape(newNick)}$");

        public override Regex YouAreNow(string nick) => new($"-!- You're now known as {Regex.Escape(nick)}$");

        public override Regex TopicChanged(string nick, string channel, string topic) =>
            new($"-!- {Regex.Escape(nick)} changed the topic of {Regex.Escape(channel)} to: {Text(topic)}$");

        // "[Users #lobby]", then rows of "[ nick]" cells padded to one width.
        public override Regex InNames(string channel, string nick) => new($"\\[{Nick(nick)} *\\]");
    }
}
