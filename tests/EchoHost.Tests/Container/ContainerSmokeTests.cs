using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Container;

/// <summary>
/// The image, proven without a Docker engine: the Dockerfile's own build steps run here, then its ENTRYPOINT runs
/// as the image's unprivileged user with the image's ENV, and every EXPOSEd port must answer with the protocol the
/// app's configuration puts there. Everything is read from the Dockerfile, so the test breaks when the two disagree.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerSmokeTests
{
    /// <summary>The dotnet base images' non-root user (<c>$APP_UID</c>).</summary>
    private const int AppUid = 1654;

    /// <summary>The environment mcr.microsoft.com/dotnet/aspnet images set (their Dockerfiles' ENV lines).</summary>
    private static readonly Dictionary<string, string> BaseImageEnvironment = new()
    {
        ["APP_UID"] = AppUid.ToString(),
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    private static readonly string[] IgnoredFolders = ["bin", "obj", "TestResults"];

    /// <summary>
    /// Also the proof that the tests need none of the default ports: a server runs on them first, as the README's
    /// <c>dotnet run</c> would (when one is already running there, or anything holds a default port, that is the very
    /// situation, and it is used as it is), and the image still passes beside it, which keeps serving.
    /// </summary>
    [Fact]
    public async Task Image_steps_build_and_every_exposed_port_answers_as_the_app_user_beside_a_server_on_the_default_ports()
    {
        await using var defaultServer = await StartOnTheDefaultPortsAsync();

        await SmokeTestAsync();

        if (defaultServer is not null)
        {
            using (var echo = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, DefaultEchoPort())))
            {
                await echo.AssertEchoesAsync("still here\n");
            }

            defaultServer.Signal(HostProcess.SIGTERM);
            Assert.Equal(0, await defaultServer.WaitForExitAsync());
        }
    }

    /// <summary>The built EchoHost with the shipped configuration, or null when a default port was taken already.</summary>
    private static async Task<HostProcess?> StartOnTheDefaultPortsAsync()
    {
        var server = HostProcess.Start([]);
        try
        {
            await server.WaitForOutputAsync(new System.Text.RegularExpressions.Regex("EchoHost started"));
            return server;
        }
        catch (InvalidOperationException)
        {
            // It exited: only "a default port is in use" is acceptable, by a server of the user's or anything else.
            Assert.Equal(1, await server.WaitForExitAsync());
            Assert.Contains("address already in use", server.StandardError);
            await server.DisposeAsync();
            return null;
        }
    }

    private static int DefaultEchoPort()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json")).Build();
        return configuration.GetValue<int>("EchoHost:Listeners:Echo:Port");
    }

    private static async Task SmokeTestAsync()
    {
        var dockerfile = Dockerfile.Load(Repository.Path("Dockerfile"));
        using var scratch = new ScratchFolder();
        // As the release builds it: the binary says the tag's version.
        var app = await BuildAsync(dockerfile, scratch, buildArgs: new Dictionary<string, string> { ["VERSION"] = "9.8.7-smoke" });
        var (versionExit, version) = await RunAsync(Path.Combine(app, "EchoHost"), ["--version"], app, new Dictionary<string, string>());
        Assert.True(versionExit == 0, version);
        Assert.Equal("EchoHost 9.8.7-smoke", version.Trim());

        // What the base image sets, then what our Dockerfile sets over it, as the engine would.
        var environment = new Dictionary<string, string>(BaseImageEnvironment);
        foreach (var (key, value) in Dockerfile.EnvironmentOf(dockerfile.Final))
        {
            environment[key] = value;
        }

        var entrypoint = dockerfile.Final.Single(i => i.Keyword == "ENTRYPOINT");
        var user = dockerfile.Final.Single(i => i.Keyword == "USER").Arguments;
        Assert.Equal("$APP_UID", user);
        var endpoints = ConfiguredEndpoints(app, environment);
        var exposed = dockerfile.ExposedPorts().ToList();
        Assert.Equal(endpoints.Keys.Order(), exposed.Order());

        // The app gets other ports through the environment, as a user's `docker run -e` would, so the test passes
        // whatever holds the exposed ports on this machine — and it holds the free ones itself to prove it.
        using var occupied = new PortOccupier(exposed);
        var published = new Dictionary<string, string>(environment);
        var ports = new Dictionary<(int Port, string Transport), int>();
        foreach (var (key, endpoint) in endpoints)
        {
            ports[key] = key.Transport == "udp" ? SocketExtensions.FreeUdpLoopbackPort() : SocketExtensions.FreeLoopbackPort();
            published[endpoint.PortVariable] = ports[key].ToString();
        }

        using var host = StartAsAppUser(app, entrypoint.ExecForm(entrypoint.Arguments)!, published);
        try
        {
            await host.StartedAsync();
            foreach (var key in exposed)
            {
                await AssertAnswersAsync(endpoints[key].Protocol, ports[key]);
            }

            var healthcheck = dockerfile.Final.Single(i => i.Keyword == "HEALTHCHECK");
            var command = healthcheck.Arguments[(healthcheck.Arguments.IndexOf("CMD", StringComparison.Ordinal) + 3)..];
            using var probe = StartAsAppUser(app, healthcheck.ExecForm(command)!, published);
            Assert.Equal(0, await probe.ExitCodeAsync());

            host.Terminate();
            Assert.Equal(0, await host.ExitCodeAsync());
            // A default start in the image has nothing to warn about (the base image's ASPNETCORE_HTTP_PORTS included).
            Assert.DoesNotContain(" WRN]", host.Output);
        }
        finally
        {
            host.Kill();
        }
    }

    /// <summary>
    /// Runs the build stage: WORKDIR, ARG, COPY from the repository, RUN with the stage's paths mapped here; for this
    /// machine's architecture unless <paramref name="targetArch"/> names another (BuildKit's TARGETARCH: amd64, arm64).
    /// </summary>
    /// <param name="buildArgs">What <c>docker build --build-arg</c> would pass; an ARG with a default takes it otherwise.</param>
    internal static async Task<string> BuildAsync(Dockerfile dockerfile, ScratchFolder scratch, string? targetArch = null, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        var final = dockerfile.Final;
        var fromBuild = final.Single(i => i.Keyword == "COPY" && i.Flags.ContainsKey("from"));
        var buildStage = dockerfile.Stages.Single(s => s[0].Arguments.EndsWith($" AS {fromBuild.Flags["from"]}", StringComparison.OrdinalIgnoreCase));
        var output = fromBuild.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        var app = scratch.Folder("app");
        var workdir = scratch.Folder("source");
        var arguments = new Dictionary<string, string>(buildArgs ?? new Dictionary<string, string>()) { ["TARGETARCH"] = targetArch ?? TargetArch() };

        foreach (var instruction in buildStage.Skip(1))
        {
            switch (instruction.Keyword)
            {
                case "WORKDIR":
                    break; // the stage's working directory is the scratch "source" folder
                case "ARG":
                    var (name, fallback) = instruction.Arguments.Split('=', 2) is [var n, var d] ? (n, d) : (instruction.Arguments, null);
                    if (!arguments.ContainsKey(name))
                    {
                        Assert.True(fallback is not null, $"no value for ARG {name}");
                        arguments[name] = fallback;
                    }

                    break;
                case "COPY":
                    var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    foreach (var source in parts[..^1])
                    {
                        Copy(Repository.Path(source.TrimEnd('/')), Path.Combine(workdir, parts[^1]));
                    }

                    break;
                case "RUN":
                    var command = instruction.Arguments.Replace($" {output}", $" {app}", StringComparison.Ordinal);
                    var (exitCode, text) = await RunAsync("bash", ["-c", command], workdir, arguments);
                    Assert.True(exitCode == 0, $"RUN {instruction.Arguments} failed ({exitCode}):\n{text}");
                    break;
                default:
                    Assert.Fail($"The smoke test does not know how to reproduce {instruction.Keyword} in the build stage.");
                    break;
            }
        }

        Assert.True(File.Exists(Path.Combine(app, "EchoHost")), "the publish step produced no EchoHost executable");
        return app;
    }

    /// <summary>
    /// What the shipped configuration, with the image's ENV applied, puts on each port, and the environment variable
    /// that moves it.
    /// </summary>
    private static Dictionary<(int Port, string Transport), (string Protocol, string PortVariable)> ConfiguredEndpoints(string app, Dictionary<string, string> environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(app, "appsettings.json"))
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":"), e.Value)))
            .Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);
        var endpoints = ListenerSet.Of(options, TestProtocols.Registry).All
            .ToDictionary(l => (l.Port, l.TransportName), l => (l.Protocol.ToString(), $"EchoHost__Listeners__{l.Name}__Port"));
        if (options.Http.Enabled)
        {
            endpoints.Add((options.Http.Port, "tcp"), ("Http", "EchoHost__Http__Port"));
        }

        return endpoints;
    }

    /// <summary>Binds every one of the given ports that is free, on all interfaces, until disposed.</summary>
    private sealed class PortOccupier : IDisposable
    {
        private readonly List<Socket> _sockets = [];

        public PortOccupier(IEnumerable<(int Port, string Transport)> ports)
        {
            foreach (var (port, transport) in ports)
            {
                var socket = transport == "udp"
                    ? new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true }
                    : new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                    if (transport == "tcp")
                    {
                        socket.Listen();
                    }

                    _sockets.Add(socket);
                }
                catch (SocketException)
                {
                    socket.Dispose(); // taken already, which is just as good
                }
            }
        }

        public void Dispose() => _sockets.ForEach(s => s.Dispose());
    }

    private static async Task AssertAnswersAsync(string protocol, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        switch (protocol)
        {
            case "Echo":
                using (var echo = await SocketExtensions.ConnectAsync(endPoint))
                {
                    await echo.AssertEchoesAsync("through the image\n");
                }

                break;
            case "Chat":
                using (var chat = await ChatClient.ConnectAsync(endPoint))
                {
                    Assert.StartsWith("guest-", chat.Nick);
                }

                break;
            case "Irc":
                var (irc, burst) = await IrcTestClient.ConnectAsync(endPoint, "smoke");
                using (irc)
                {
                    Assert.Contains(":smoke!~chat@echohost JOIN #lobby", burst);
                }

                break;
            case "Web":
                using (var socket = new System.Net.WebSockets.ClientWebSocket())
                {
                    await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws/echo"), TestTimeouts.Token());
                    var message = "websocket through the image"u8.ToArray();
                    await socket.SendAsync(message, System.Net.WebSockets.WebSocketMessageType.Text, true, TestTimeouts.Token());
                    var reply = new byte[message.Length];
                    var result = await socket.ReceiveAsync(reply, TestTimeouts.Token());
                    Assert.Equal(message, reply[..result.Count]);
                }

                break;
            case "UdpEcho":
                using (var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
                {
                    var datagram = "udp through the image"u8.ToArray();
                    await udp.SendAsync(datagram, endPoint, TestTimeouts.Token());
                    var reply = await udp.ReceiveAsync(TestTimeouts.Token());
                    Assert.Equal(datagram, reply.Buffer);
                }

                break;
            case "Http":
                using (var http = new HttpClient())
                {
                    var response = await http.GetAsync($"http://127.0.0.1:{port}/readyz", TestTimeouts.Token());
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    // The image binds every interface: client addresses are not served there unless asked for.
                    var connections = await http.GetAsync($"http://127.0.0.1:{port}/connections", TestTimeouts.Token());
                    Assert.Equal(HttpStatusCode.NotFound, connections.StatusCode);
                }

                break;
            default:
                Assert.Fail($"No smoke check for protocol {protocol} on port {port}.");
                break;
        }
    }

    private static string TargetArch() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static void Copy(string source, string destination)
    {
        if (File.Exists(source))
        {
            var target = destination.EndsWith('/') || Directory.Exists(destination) ? Path.Combine(destination, Path.GetFileName(source)) : destination;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target, overwrite: true);
            return;
        }

        Assert.True(Directory.Exists(source), $"COPY source {source} does not exist");
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)), overwrite: true);
        }

        foreach (var folder in Directory.EnumerateDirectories(source).Where(d => !IgnoredFolders.Contains(Path.GetFileName(d))))
        {
            Copy(folder, Path.Combine(destination, Path.GetFileName(folder)));
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, string workdir, IDictionary<string, string> environment)
    {
        using var process = Start(file, args, workdir, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestTimeouts.Token(TimeSpan.FromMinutes(5)));
        return (process.ExitCode, await output + await error);
    }

    private static Process Start(string file, IEnumerable<string> args, string workdir, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workdir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("EchoHost__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    /// <summary>An exec-form command run as the image would: in /app, as <c>$APP_UID</c> when we are root.</summary>
    private static AppProcess StartAsAppUser(string app, IReadOnlyList<string> command, Dictionary<string, string> environment)
    {
        var executable = command[0].StartsWith("./", StringComparison.Ordinal) ? Path.Combine(app, command[0][2..]) : command[0];
        var asRoot = Environment.UserName == "root";
        var process = asRoot
            ? Start("setpriv", [$"--reuid={AppUid}", $"--regid={AppUid}", "--clear-groups", executable, .. command.Skip(1)], app, environment)
            : Start(executable, command.Skip(1), app, environment);
        return new AppProcess(process);
    }

    private sealed class AppProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public AppProcess(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (line.Contains("EchoHost started", StringComparison.Ordinal))
            {
                _started.TrySetResult();
            }
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public async Task StartedAsync()
        {
            var exited = _process.WaitForExitAsync();
            if (await Task.WhenAny(_started.Task, exited).WaitAsync(TestTimeouts.Process) != _started.Task)
            {
                Assert.Fail($"EchoHost exited before it started:\n{_output}");
            }
        }

        public async Task<int> ExitCodeAsync()
        {
            await _process.WaitForExitAsync(TestTimeouts.Token(TestTimeouts.Process));
            return _process.ExitCode;
        }

        public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();

        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        public void Dispose() => _process.Dispose();
    }

    /// <summary>A temp folder the app user can read (temp folders are created owner-only), removed afterwards.</summary>
    internal sealed class ScratchFolder : IDisposable
    {
        private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

        private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"echohost-image-{Guid.NewGuid():N}"), Readable).FullName;

        public string Folder(string name) => Directory.CreateDirectory(Path.Combine(_root, name), Readable).FullName;

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
