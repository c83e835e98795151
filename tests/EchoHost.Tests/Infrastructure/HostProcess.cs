using System.Text.RegularExpressions;
using EchoHost.Harness;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// The built EchoHost run as a child process (the harness's <see cref="ChildProcess"/>, its output captured), for
/// what only a process shows: exit codes, signals, stderr.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    /// <summary>Variables a developer may have set for their own runs; none reaches the child unless a test passes it.</summary>
    private static readonly string[] LeakingPrefixes = ["EchoHost__", "Serilog__", "ASPNETCORE_", "OTEL_"];

    /// <summary>
    /// The generic host's URL variables, and the runtime's inline socket completions, which change where socket work runs
    /// (DOTNET_ROOT and the like stay: the child needs them).
    /// </summary>
    private static readonly string[] LeakingVariables = ["DOTNET_URLS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS", "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"];

    private readonly ChildProcess _process;

    private HostProcess(ChildProcess process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput => _process.StandardOutput;

    public string StandardError => _process.StandardError;

    /// <summary>Every listener and the HTTP endpoint on a free loopback port, so a child never collides with a running EchoHost.</summary>
    public static readonly string[] LoopbackPortZero =
    [
        "--EchoHost:Address=127.0.0.1",
        "--EchoHost:Listeners:Echo:Port=0",
        "--EchoHost:Listeners:Chat:Port=0",
        "--EchoHost:Listeners:Irc:Port=0",
        "--EchoHost:Listeners:Web:Port=0",
        "--EchoHost:Listeners:UdpEcho:Port=0",
        "--EchoHost:Http:Port=0",
    ];

    /// <summary>
    /// The EchoHost.dll built next to the tests, with the tests' own configuration beside it (host.appsettings.json in
    /// the test project), never the user's root appsettings.json: a listener a user adds there must not collide.
    /// </summary>
    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "EchoHost.dll");

    private static readonly Lazy<string> _shippedHostDll = new(() =>
        CopyHost(Directory.CreateTempSubdirectory("echohost-shipped-").FullName, File.ReadAllText(Repository.Path("appsettings.json"))));

    /// <summary>A copy of the built EchoHost beside the root appsettings.json, for the tests of what ships (made once a run).</summary>
    public static string ShippedHostDll => _shippedHostDll.Value;

    /// <summary>Copies the built EchoHost into <paramref name="folder"/> with <paramref name="appSettings"/> as its appsettings.json; returns its EchoHost.dll.</summary>
    public static string CopyHost(string folder, string appSettings)
    {
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory)
                     .Where(f => Path.GetExtension(f) is ".dll" or ".json" && Path.GetFileName(f) != "appsettings.json"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        }

        File.WriteAllText(Path.Combine(folder, "appsettings.json"), appSettings);
        return Path.Combine(folder, "EchoHost.dll");
    }

    /// <param name="launcher">A program and its arguments that start dotnet, such as <c>prlimit --nofile=512:512 --</c>.</param>
    /// <param name="hostDll">Another copy of EchoHost.dll to run, such as one beside an appsettings.json of the test's own.</param>
    public static HostProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, IReadOnlyList<string>? launcher = null, string? hostDll = null) =>
        new(ChildProcess.Start(new ChildProcessOptions("EchoHost", launcher is [var program, ..] ? program : "dotnet")
        {
            Arguments = [.. launcher?.Skip(1).Append("dotnet") ?? [], hostDll ?? HostDll, .. args],
            // A developer's own settings must not leak into the child: its configuration, its HTTP URLs, its log sinks
            // and levels, its OpenTelemetry exporter. A test that wants one passes it in environment.
            ScrubbedPrefixes = LeakingPrefixes,
            ScrubbedVariables = LeakingVariables,
            Environment = environment?.AsReadOnly(),
            WorkingDirectory = Path.GetTempPath(),
            StopTimeout = TestTimeouts.Process,
        }));

    /// <summary>Waits for a stdout line matching <paramref name="pattern"/>; fails early if the process exits.</summary>
    public Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan? timeout = null) =>
        _process.WaitForOutputAsync(pattern, timeout ?? TestTimeouts.Process);

    /// <summary>The bound port of a listener, read from its startup line.</summary>
    public async Task<int> ListenerPortAsync(string listener, string transport = "tcp")
    {
        var match = await WaitForOutputAsync(new Regex($@"Listener {Regex.Escape(listener)} \(\w+\) listening on .*:(?<port>\d+)/{transport}"));
        return int.Parse(match.Groups["port"].Value);
    }

    /// <summary>The bound port of the HTTP endpoint, read from its startup line.</summary>
    public async Task<int> HttpPortAsync()
    {
        var match = await WaitForOutputAsync(new Regex(@"HTTP endpoint listening on \S*:(?<port>\d+)"));
        return int.Parse(match.Groups["port"].Value);
    }

    public Task<int> WaitForExitAsync(TimeSpan? timeout = null) => _process.WaitForExitAsync(timeout ?? TestTimeouts.Process);

    public void Signal(int signal) => _process.Signal(signal);

    /// <inheritdoc cref="ChildProcess.SIGTERM"/>
    public const int SIGTERM = ChildProcess.SIGTERM;

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
