using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// A server the benchmark measures, run as a child process with its output in a log file (a pipe to us would make
/// us part of its cost). The shell <c>exec</c>s the server, so the process id is the server's own for /proc.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public string LogPath { get; }

    public ProcessFigures Figures() => ProcessFigures.Of(Pid);

    public static ServerProcess Start(string name, string program, IEnumerable<string> args, IDictionary<string, string> environment, string workingDirectory, string logDirectory)
    {
        var log = Path.Combine(logDirectory, name.Replace(' ', '-') + ".log");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = workingDirectory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >\"$ECHOHOST_BENCHMARK_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(program);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The user's own overrides must not change what is measured.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("EchoHost__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["ECHOHOST_BENCHMARK_LOG"] = log;
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        return new ServerProcess(name, process, log);
    }

    /// <summary>Waits until the TCP port accepts a connection; fails with the end of the server's log if it exits first.</summary>
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

    /// <summary>Waits until the server's log has a line containing <paramref name="text"/> (such as EchoHost's chat backplane connecting).</summary>
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

    /// <summary>Waits until a datagram to the port comes back.</summary>
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
        if (_process.HasExited)
        {
            throw new BenchmarkException($"{Name} exited with code {_process.ExitCode} before {what} answered; its log ({LogPath}) ends:\n{Tail()}");
        }

        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw new BenchmarkException($"{Name} did not answer on {what} in time; its log ({LogPath}) ends:\n{Tail()}");
        }
    }

    public string Tail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(15));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}

/// <summary>The benchmark cannot go on: one line (or a server's log) for the user, exit code 1.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
