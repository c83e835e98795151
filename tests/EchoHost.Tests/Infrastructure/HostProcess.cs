using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace EchoHost.Tests.Infrastructure;

/// <summary>The built EchoHost run as a child process, for what only a process shows: exit codes, signals, stderr.</summary>
internal sealed partial class HostProcess : IAsyncDisposable
{
    /// <summary>Variables a developer may have set for their own runs; none reaches the child unless a test passes it.</summary>
    private static readonly string[] LeakingPrefixes = ["EchoHost__", "Serilog__", "ASPNETCORE_", "OTEL_"];

    /// <summary>
    /// The generic host's URL variables, and the runtime's inline socket completions, which change where socket work runs
    /// (DOTNET_ROOT and the like stay: the child needs them).
    /// </summary>
    private static readonly string[] LeakingVariables = ["DOTNET_URLS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS", "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"];

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private event Action? LineArrived;

    private HostProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _exited.Task.IsCompleted;

    public string StandardOutput => string.Join('\n', _stdout);

    public string StandardError => string.Join('\n', _stderr);

    /// <summary>Every listener and the HTTP endpoint on a free loopback port, so a child never collides with a running EchoHost.</summary>
    public static readonly string[] LoopbackPortZero =
    [
        "--EchoHost:Address=127.0.0.1",
        "--EchoHost:Listeners:Echo:Port=0",
        "--EchoHost:Listeners:Chat:Port=0",
        "--EchoHost:Listeners:UdpEcho:Port=0",
        "--EchoHost:Http:Port=0",
    ];

    /// <summary>The EchoHost.dll built next to the tests, with the shipped appsettings.json beside it.</summary>
    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "EchoHost.dll");

    /// <param name="launcher">A program and its arguments that start dotnet, such as <c>prlimit --nofile=512:512 --</c>.</param>
    /// <param name="hostDll">Another copy of EchoHost.dll to run, such as one beside an appsettings.json of the test's own.</param>
    public static HostProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, IReadOnlyList<string>? launcher = null, string? hostDll = null)
    {
        var info = new ProcessStartInfo(launcher is [var program, ..] ? program : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in launcher?.Skip(1).Append("dotnet") ?? [])
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add(hostDll ?? HostDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A developer's own settings must not leak into the child: its configuration, its HTTP URLs, its log sinks
        // and levels, its OpenTelemetry exporter. A test that wants one passes it in environment.
        foreach (var key in info.Environment.Keys.Where(IsDevelopersSetting).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var host = new HostProcess(process);
        process.OutputDataReceived += (_, e) => host.Add(host._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => host.Add(host._stderr, e.Data);
        process.Exited += (_, _) => host._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private static bool IsDevelopersSetting(string variable) =>
        LeakingPrefixes.Any(prefix => variable.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        || LeakingVariables.Contains(variable, StringComparer.OrdinalIgnoreCase);

    private void Add(ConcurrentQueue<string> queue, string? line)
    {
        if (line is not null)
        {
            queue.Enqueue(line);
            LineArrived?.Invoke();
        }
    }

    /// <summary>Waits for a stdout line matching <paramref name="pattern"/>; fails early if the process exits.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan? timeout = null)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            foreach (var line in _stdout)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    found.TrySetResult(match);
                    return;
                }
            }
        }

        LineArrived += Check;
        try
        {
            Check();
            var first = await Task.WhenAny(found.Task, _exited.Task).WaitAsync(timeout ?? TestTimeouts.Process);
            if (first != found.Task)
            {
                Check();
                if (!found.Task.IsCompleted)
                {
                    throw new InvalidOperationException($"EchoHost exited before printing /{pattern}/.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
                }
            }

            return await found.Task;
        }
        finally
        {
            LineArrived -= Check;
        }
    }

    /// <summary>The bound port of a listener, read from its startup line.</summary>
    public async Task<int> ListenerPortAsync(string listener, string transport = "tcp")
    {
        var match = await WaitForOutputAsync(new Regex($@"Listener {Regex.Escape(listener)} \(\w+\) listening on .*:(?<port>\d+)/{transport}"));
        return int.Parse(match.Groups["port"].Value);
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        await _exited.Task.WaitAsync(timeout ?? TestTimeouts.Process);
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    // Tests stop a child with SIGTERM only: a child started from a script's background job inherits SIGINT as
    // ignored, and would never stop.
    public const int SIGTERM = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(TestTimeouts.Token(TestTimeouts.Process));
        }

        _process.Dispose();
    }
}
