using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace EchoHost.Harness;

/// <summary>
/// A long-running program started for a test or a benchmark: its output captured in memory or written to a log
/// file, waits for a line, a TCP port or a UDP echo that fail early (with the end of its output) when it exits,
/// signals, and a kill of its whole tree on dispose.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable, IDisposable
{
    // Tests stop a child with SIGTERM only: a child started from a script's background job inherits SIGINT as
    // ignored, and would never stop.
    public const int SIGTERM = 15;

    private const int TailLines = 15;

    private readonly Process _process;
    private readonly ChildProcessOptions _options;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The end of the captured stdout: the exit can be reported before its last lines have been read.
    private readonly TaskCompletionSource _stdoutEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private event Action? LineArrived;

    private ChildProcess(Process process, ChildProcessOptions options)
    {
        _process = process;
        _options = options;
    }

    public string Name => _options.Name;

    public int Id => _process.Id;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code once the child has exited; null while it runs.</summary>
    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>The log file the child writes, or null when its output is captured in memory.</summary>
    public string? LogPath => _options.LogFile;

    /// <summary>The lines the child wrote to stdout so far (empty with a log file).</summary>
    public string StandardOutput => string.Join('\n', _stdout);

    /// <summary>The lines the child wrote to stderr so far (empty with a log file).</summary>
    public string StandardError => string.Join('\n', _stderr);

    public static ChildProcess Start(ChildProcessOptions options)
    {
        var toFile = options.LogFile is not null;
        var info = new ProcessStartInfo(toFile ? "/bin/sh" : options.Program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = !toFile,
            RedirectStandardError = !toFile,
            RedirectStandardInput = !toFile,
        };
        if (options.WorkingDirectory is not null)
        {
            info.WorkingDirectory = options.WorkingDirectory;
        }

        if (toFile)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("exec \"$0\" \"$@\" >\"$ECHOHOST_CHILD_LOG\" 2>&1 </dev/null");
            info.ArgumentList.Add(options.Program);
        }

        foreach (var argument in options.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.Where(key => IsScrubbed(options, key)).ToList())
        {
            info.Environment.Remove(key);
        }

        if (toFile)
        {
            info.Environment["ECHOHOST_CHILD_LOG"] = options.LogFile;
        }

        foreach (var (key, value) in options.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, options);
        process.Exited += (_, _) => child._exited.TrySetResult();
        if (!toFile)
        {
            process.OutputDataReceived += (_, e) =>
            {
                child.Add(child._stdout, e.Data);
                if (e.Data is null)
                {
                    child._stdoutEnded.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, e) => child.Add(child._stderr, e.Data);
        }

        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new HarnessException($"could not start {options.Name} ({options.Program}): {ex.Message}");
        }

        if (!toFile)
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return child;
    }

    private static bool IsScrubbed(ChildProcessOptions options, string variable) =>
        options.ScrubbedPrefixes.Any(prefix => variable.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        || options.ScrubbedVariables.Contains(variable, StringComparer.OrdinalIgnoreCase);

    private void Add(ConcurrentQueue<string> queue, string? line)
    {
        if (line is not null)
        {
            queue.Enqueue(line);
            LineArrived?.Invoke();
        }
    }

    /// <summary>Waits for a stdout line matching <paramref name="pattern"/>; fails early if the process exits first.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan timeout)
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
            var first = await Task.WhenAny(found.Task, _exited.Task).WaitAsync(timeout);
            if (first != found.Task)
            {
                // Exited: its last lines may still be on their way. (A grandchild may hold stdout open: not for ever.)
                await Task.WhenAny(_stdoutEnded.Task, Task.Delay(TimeSpan.FromSeconds(10)));
                Check();
                if (!found.Task.IsCompleted)
                {
                    throw new InvalidOperationException($"{Name} exited before printing /{pattern}/.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
                }
            }

            return await found.Task;
        }
        finally
        {
            LineArrived -= Check;
        }
    }

    /// <summary>Waits until the log file has a line containing <paramref name="text"/>; fails early if the process exits first.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!LogContains(text))
        {
            await Task.Delay(100);
            CheckAlive(deadline, $"its log line '{text}'");
        }
    }

    private bool LogContains(string text)
    {
        if (LogPath is null)
        {
            return _stdout.Concat(_stderr).Any(line => line.Contains(text, StringComparison.Ordinal));
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd().Contains(text, StringComparison.Ordinal);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Waits until the TCP port accepts a connection; fails early if the process exits first.</summary>
    public async Task WaitForTcpAsync(IPEndPoint endPoint, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endPoint).WaitAsync(TimeSpan.FromSeconds(1));
                return;
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException)
            {
                await Task.Delay(100);
                CheckAlive(deadline, $"{endPoint}/tcp");
            }
        }
    }

    /// <summary>Waits until a datagram to the port comes back; fails early if the process exits first.</summary>
    public async Task WaitForUdpAsync(IPEndPoint endPoint, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(endPoint);
        var buffer = new byte[64];
        while (true)
        {
            try
            {
                await socket.SendAsync("ready?"u8.ToArray(), SocketFlags.None);
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                return;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                await Task.Delay(100);
                CheckAlive(deadline, $"{endPoint}/udp");
            }
        }
    }

    private void CheckAlive(long deadline, string what)
    {
        var output = LogPath is null ? "its output" : $"its log ({LogPath})";
        if (_process.HasExited)
        {
            throw new HarnessException($"{Name} exited with code {_process.ExitCode} before {what} answered; {output} ends:\n{Tail()}");
        }

        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw new HarnessException($"{Name} did not answer on {what} in time; {output} ends:\n{Tail()}");
        }
    }

    /// <summary>The last lines of the child's output (of its log file, or of stdout then stderr).</summary>
    public string Tail()
    {
        if (LogPath is null)
        {
            return string.Join('\n', _stdout.Concat(_stderr).TakeLast(TailLines));
        }

        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(TailLines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>Waits for the child to exit (a <see cref="TimeoutException"/> after <paramref name="timeout"/>); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _exited.Task.WaitAsync(timeout);
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var stopped = new CancellationTokenSource(_options.StopTimeout);
            await _process.WaitForExitAsync(stopped.Token);
        }

        _process.Dispose();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(_options.StopTimeout);
        }

        _process.Dispose();
    }
}
