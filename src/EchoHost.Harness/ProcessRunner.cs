using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace EchoHost.Harness;

/// <summary>Runs a program to completion and returns what it said; finds programs on PATH.</summary>
public static class ProcessRunner
{
    /// <summary>The full path of an executable on PATH, or null.</summary>
    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs a program to completion, feeding it <paramref name="standardInput"/>. The <paramref name="timeout"/> only
    /// stops a hung program (it is killed, with its children, and a <see cref="TimeoutException"/> says so).
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, string? standardInput = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var commandLine = $"{program} {string.Join(' ', info.ArgumentList)}";
        using var hangGuard = new CancellationTokenSource(timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(hangGuard.Token);
            var stderr = process.StandardError.ReadToEndAsync(hangGuard.Token);
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
            await process.WaitForExitAsync(hangGuard.Token);
            return new ProcessResult(commandLine, process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException) when (hangGuard.IsCancellationRequested)
        {
            throw new TimeoutException($"{commandLine} was still running after {timeout}; killed.");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// The synchronous form of <see cref="RunAsync"/> with no input, for look-ups made where nothing can be awaited
    /// (a static property, say). A program that cannot be started gives exit code -1 and the reason as its error output.
    /// </summary>
    public static ProcessResult Run(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var commandLine = $"{program} {string.Join(' ', info.ArgumentList)}";
        var (stdout, stderr) = (new StringBuilder(), new StringBuilder());
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return new ProcessResult(commandLine, -1, "", ex.Message);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} was still running after {timeout}; killed.");
        }

        process.WaitForExit(); // drains the redirected streams
        lock (stdout)
        {
            lock (stderr)
            {
                return new ProcessResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.Append(line).Append('\n');
            }
        }
    }
}
