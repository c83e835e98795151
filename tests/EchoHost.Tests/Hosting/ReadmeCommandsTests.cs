using System.Text.RegularExpressions;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// Every command of the README's Quick start, read from README.md itself and run through bash exactly as written —
/// only the shipped ports are replaced by free ones — against the built binary with the shipped configuration.
/// Interactive commands get a scripted user: lines typed one at a time, each after the previous answer arrived, and
/// the way out the README gives (Ctrl+] then quit, %end%, Ctrl+C). A command the test has no check for fails it, so
/// the README and this test cannot drift apart.
/// </summary>
public sealed partial class ReadmeCommandsTests(ReadmeCommandsTests.Server server) : IClassFixture<ReadmeCommandsTests.Server>
{
    public static TheoryData<string> QuickStartCommands() => new(QuickStart.Commands().Where(c => !IsIrssi(c)));

    /// <summary>irssi needs a terminal: its commands run in one of their own (<see cref="Quick_start_irssi_command_reaches_the_lobby"/>).</summary>
    private static bool IsIrssi(string command) => command.StartsWith("irssi ", StringComparison.Ordinal);

    [Fact]
    public void Quick_start_has_the_commands_this_test_knows()
    {
        var commands = QuickStart.Commands();

        Assert.Contains("nc -N localhost 65432 < some.bin > back.bin", commands);
        Assert.Contains("telnet localhost 65432", commands);
        Assert.Contains("nc localhost 65433", commands);
        Assert.Contains("printf 'hello\\n' | nc -u -w1 localhost 65400", commands);
        Assert.Contains("irssi -c localhost -p 6667", commands);
        Assert.All(commands, c => Assert.DoesNotContain("#", c));
    }

    [ToolTheory(Netcat, Telnet, Curl)]
    [MemberData(nameof(QuickStartCommands))]
    public async Task Quick_start_command_works_as_written(string command)
    {
        var comment = QuickStart.CommentOf(command);
        var run = server.Substitute(command);
        using var scratch = new ScratchFolder();

        if (command.Contains('|') || command.Contains('<'))
        {
            await RunPipedAsync(command, comment, run, scratch);
        }
        else if (command.StartsWith("curl ", StringComparison.Ordinal))
        {
            await RunCurlAsync(command, run, scratch);
        }
        else
        {
            await RunInteractiveAsync(command, comment, run, scratch);
        }
    }

    /// <summary>
    /// The Quick start's irssi line, as written, in a terminal (tmux) with a home of its own: irssi registers on the
    /// shipped Irc listener and shows itself in #lobby, as the line's comment says, and /quit ends it.
    /// </summary>
    [ToolFact(Irssi, Tmux)]
    public async Task Quick_start_irssi_command_reaches_the_lobby()
    {
        var commands = QuickStart.Commands().Where(IsIrssi).ToList();
        Assert.NotEmpty(commands);
        foreach (var command in commands)
        {
            Assert.Contains("you are in #lobby", QuickStart.CommentOf(command));
            await using var irssi = await EchoHost.Tests.Protocols.IrcClients.IrssiClient.StartCommandAsync(server.Substitute(command), "readme");
            await irssi.Log.WaitForAsync(irssi.Shows.Joined("readme", "#lobby"));
            await irssi.QuitAsync("bye");
        }
    }

    private async Task RunPipedAsync(string command, string comment, string run, ScratchFolder scratch)
    {
        // `< some.bin`: a file with every byte value, large enough for many reads and writes each way.
        if (InputFile().Match(command) is { Success: true } input)
        {
            var bytes = new byte[1 << 20];
            new Random(13).NextBytes(bytes);
            for (var i = 0; i < 256; i++)
            {
                bytes[i] = (byte)i;
            }

            await File.WriteAllBytesAsync(Path.Combine(scratch.Root, input.Groups["file"].Value), bytes);
        }

        var output = (await scratch.BashAsync(run)).EnsureSuccess();

        if (PrintfInput().Match(command) is { Success: true } printf)
        {
            // What goes in comes back: the command prints what printf sent.
            Assert.Equal(Regex.Unescape(printf.Groups["text"].Value), output);
        }

        if (Prints().Match(comment) is { Success: true } prints)
        {
            Assert.Equal(prints.Groups["text"].Value + "\n", output);
        }

        if (Cmp().Match(comment) is { Success: true } cmp)
        {
            (await scratch.BashAsync(cmp.Value)).EnsureSuccess();
        }

        Assert.True(
            PrintfInput().IsMatch(command) || Cmp().IsMatch(comment),
            $"README command `{command}`: the test has no check for it; teach ReadmeCommandsTests what it should do");
    }

    private async Task RunCurlAsync(string command, string run, ScratchFolder scratch)
    {
        var output = (await scratch.BashAsync(run)).EnsureSuccess();
        var path = new Uri(command["curl ".Length..].Trim()).AbsolutePath;
        switch (path)
        {
            case "/":
                // Names the service and every listener on the port it really listens on.
                Assert.StartsWith("EchoHost on ", output);
                foreach (var (name, port) in server.ListenerPorts)
                {
                    Assert.Contains($"{name} (", output);
                    Assert.Contains($":{port}/", output);
                }

                break;
            case "/metrics":
                Assert.Contains("# TYPE ", output);
                Assert.Contains("echohost_", output);
                break;
            case "/echo":
                // "your request, your address and who answered": the HTTP echo's JSON.
                using (var echo = System.Text.Json.JsonDocument.Parse(output))
                {
                    var root = echo.RootElement;
                    Assert.Equal(("GET", "/echo"), (root.GetProperty("method").GetString(), root.GetProperty("path").GetString()));
                    Assert.StartsWith("curl/", root.GetProperty("headers").GetProperty("User-Agent").GetString());
                    // localhost: curl may come over either loopback.
                    Assert.Contains(root.GetProperty("client").GetProperty("address").GetString(), (string[])["127.0.0.1", "::1"]);
                    Assert.Equal("Web", root.GetProperty("server").GetProperty("listener").GetString());
                }

                break;
            default:
                Assert.Fail($"README command `{command}`: the test has no check for {path}");
                break;
        }
    }

    private async Task RunInteractiveAsync(string command, string comment, string run, ScratchFolder scratch)
    {
        var port = int.Parse(Regex.Match(command, @"localhost (\d+)$").Groups[1].Value);
        var protocol = server.ShippedProtocolOn(port);
        var telnet = command.StartsWith("telnet ", StringComparison.Ordinal);
        var udp = command.StartsWith("nc -u ", StringComparison.Ordinal);
        string[] steps = (protocol, telnet, udp) switch
        {
            // "type lines, see them back; Ctrl+] then "quit"": telnet's escape character, then its quit command, which
            // must end telnet while its input is still open (at the end of its input telnet would stop anyway).
            ("Echo", true, false) when comment.Contains("Ctrl+] then \"quit\"", StringComparison.Ordinal) =>
                [Type("hello, echo"), Await("hello, echo"), "printf '\\035' >&3", Type("quit"), Exited("quit")],
            ("Chat", _, false) =>
                [Type("/nick readme"), Await("*** You are now known as readme"), Type("%end%"), Await("*** Goodbye, readme!")],
            // "each line you type is a datagram, echoed back"; nc -u never ends by itself: Ctrl+C.
            ("UdpEcho", false, true) =>
                [Type("first datagram"), Await("first datagram"), Type("second datagram"), Await("second datagram"), "kill -INT $pid"],
            _ => throw new InvalidOperationException($"README command `{command}`: the test has no scripted session for it"),
        };

        var output = (await scratch.BashAsync(Session(run, steps))).EnsureSuccess();

        var exit = int.Parse(Regex.Match(output, @"^exit=(\d+)$", RegexOptions.Multiline).Groups[1].Value);
        if (!udp)
        {
            Assert.True(exit == 0, $"`{run}` exited {exit}:\n{output}");
        }

        if (protocol == "Echo")
        {
            Assert.Contains("hello, echo\n", output.ReplaceLineEndings("\n"));
        }
        else if (udp)
        {
            // One line per datagram, in order, nothing else.
            Assert.Contains("first datagram\nsecond datagram\n", output);
        }

        if (telnet && protocol == "Echo")
        {
            // Ctrl+] reached telnet as its escape character: it prompted for a command instead of sending the byte on.
            Assert.Contains("telnet> ", output);
        }
    }

    private static string Type(string line) => $"printf '%s\\n' '{line}' >&3";

    private static string Await(string text) => $"seen '{text}'";

    private static string Exited(string after) => $"gone '{after}'";

    /// <summary>
    /// The command reads a FIFO the script writes to, a line at a time; <c>seen</c> waits until the output shows a
    /// text, <c>gone</c> until the command has exited with its input still open (both bounded by the two minutes a
    /// child process gets: hang guards). Prints the output and then <c>exit=N</c>, the command's exit code.
    /// </summary>
    private static string Session(string command, IEnumerable<string> steps) => $$"""
        set -m
        mkfifo session.in
        {{command}} < session.in > session.out 2>&1 &
        pid=$!
        exec 3> session.in
        seen() {
          for _ in $(seq 1 1200); do
            grep -qF -- "$1" session.out && return 0
            kill -0 $pid 2>/dev/null || break
            sleep 0.1
          done
          grep -qF -- "$1" session.out || { echo "never saw '$1'"; cat session.out; exit 1; } >&2
        }
        gone() {
          for _ in $(seq 1 1200); do
            kill -0 $pid 2>/dev/null || return 0
            sleep 0.1
          done
          { echo "still running after '$1'"; cat session.out; exit 1; } >&2
        }
        {{string.Join("\n", steps)}}
        exec 3>&-
        wait $pid
        status=$?
        cat session.out
        echo "exit=$status"
        """;

    [GeneratedRegex(@"< (?<file>\S+)")]
    private static partial Regex InputFile();

    [GeneratedRegex(@"^printf '(?<text>[^']*)' \|")]
    private static partial Regex PrintfInput();

    [GeneratedRegex(@"prints: (?<text>\S.*)$")]
    private static partial Regex Prints();

    [GeneratedRegex(@"cmp \S+ \S+")]
    private static partial Regex Cmp();

    /// <summary>The Quick start section of README.md: its shell commands that talk to the server.</summary>
    private static partial class QuickStart
    {
        private static readonly Lazy<List<(string Command, string Comment)>> Lines = new(Read);

        public static List<string> Commands() => Lines.Value.Select(l => l.Command).ToList();

        public static string CommentOf(string command) => Lines.Value.First(l => l.Command == command).Comment;

        private static List<(string, string)> Read()
        {
            var readme = File.ReadAllText(Repository.Path("README.md")).ReplaceLineEndings("\n");
            var start = readme.IndexOf("\n## Quick start\n", StringComparison.Ordinal);
            Assert.True(start >= 0, "README.md has no Quick start section");
            var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            var section = readme[start..end];

            var lines = new List<(string, string)>();
            foreach (Match block in ShellBlock().Matches(section))
            {
                foreach (var line in block.Groups["body"].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var hash = line.IndexOf(" #", StringComparison.Ordinal);
                    var command = (hash < 0 ? line : line[..hash]).Trim();
                    var comment = hash < 0 ? string.Empty : line[(hash + 2)..].Trim();
                    if (!command.Contains("localhost", StringComparison.Ordinal))
                    {
                        continue; // dotnet run and dotnet test: this very run
                    }

                    lines.Add((command, comment));
                    // "chat; or: nc localhost 65433": the alternative is a README command too.
                    if (Alternative().Match(comment) is { Success: true } alternative)
                    {
                        lines.Add((alternative.Groups["command"].Value.Trim(), comment));
                    }
                }
            }

            // Commands in the prose, such as `printf 'hello\n' | nc -u -w1 localhost 65400`.
            var prose = ShellBlock().Replace(section, string.Empty);
            foreach (Match inline in InlineCommand().Matches(prose))
            {
                lines.Add((inline.Groups["command"].Value, string.Empty));
            }

            return lines.DistinctBy(l => l.Item1).ToList();
        }

        [GeneratedRegex(@"```sh\n(?<body>.*?)```", RegexOptions.Singleline)]
        private static partial Regex ShellBlock();

        [GeneratedRegex(@"or: (?<command>[^;]*localhost[^;]*)")]
        private static partial Regex Alternative();

        [GeneratedRegex(@"`(?<command>(?:printf|nc|telnet|curl) [^`]*localhost[^`]*)`")]
        private static partial Regex InlineCommand();
    }

    /// <summary>The built binary with the shipped appsettings.json, every listener moved to a free port.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private readonly Dictionary<int, (string Name, string Protocol, int Port)> _byShippedPort = [];
        private HostProcess? _process;

        public IEnumerable<(string Name, int Port)> ListenerPorts => _byShippedPort.Values.Where(l => l.Protocol != "Http").Select(l => (l.Name, l.Port));

        public async Task InitializeAsync()
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(Path.GetDirectoryName(HostProcess.ShippedHostDll)!, "appsettings.json")).Build();
            var options = new EchoHostOptions();
            ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);

            var environment = new Dictionary<string, string>();
            foreach (var listener in ListenerSet.Of(options, TestProtocols.Registry).All)
            {
                var port = listener.Transport == ListenerTransport.Udp ? SocketExtensions.FreeUdpLoopbackPort() : SocketExtensions.FreeLoopbackPort();
                _byShippedPort.Add(listener.Port, (listener.Name, listener.Protocol.ToString(), port));
                environment[$"EchoHost__Listeners__{listener.Name}__Port"] = port.ToString();
            }

            var httpPort = SocketExtensions.FreeLoopbackPort();
            _byShippedPort.Add(options.Http.Port, ("Http", "Http", httpPort));
            environment["EchoHost__Http__Port"] = httpPort.ToString();

            _process = HostProcess.Start([], environment, hostDll: HostProcess.ShippedHostDll);
            await _process.WaitForOutputAsync(new Regex("EchoHost started"));
        }

        public string ShippedProtocolOn(int shippedPort) => _byShippedPort[shippedPort].Protocol;

        /// <summary>The command with every shipped port (<c>localhost 65432</c>, <c>localhost:8080</c>, <c>localhost -p 6667</c>) replaced by the one in use.</summary>
        public string Substitute(string command) =>
            Regex.Replace(command, @"(?<=localhost(?:[ :]| -p ))(\d+)", m => _byShippedPort.TryGetValue(int.Parse(m.Value), out var l) ? l.Port.ToString() : m.Value);

        public async Task DisposeAsync()
        {
            if (_process is not null)
            {
                await _process.DisposeAsync();
            }
        }
    }

    /// <summary>A working directory for one command (some.bin, back.bin, the session's FIFO), removed afterwards.</summary>
    private sealed class ScratchFolder : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("echohost-readme-").FullName;

        /// <summary>
        /// Runs the script in this folder; a command that never returns (exit 124, from <c>timeout</c>, which also stops
        /// what the script started in the background, after the process allowance) is what the README must not have.
        /// </summary>
        public Task<ToolResult> BashAsync(string script) =>
            RunAsync("timeout", ["--kill-after=2", $"{TestTimeouts.Process.TotalSeconds:0}", "bash", "-c", $"cd '{Root}' && {script}"],
                timeout: TestTimeouts.Process + TimeSpan.FromSeconds(10));

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
