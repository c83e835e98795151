using EchoHost.Harness;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// A server the benchmark measures: a <see cref="ChildProcess"/> with its output in a log file (a pipe to us would
/// make us part of its cost) and a process id that is the server's own, for /proc.
/// </summary>
internal static class ServerProcess
{
    public static ChildProcess Start(string name, string program, IEnumerable<string> args, IDictionary<string, string> environment, string workingDirectory, string logDirectory) =>
        ChildProcess.Start(new ChildProcessOptions(name, program)
        {
            Arguments = [.. args],
            // The user's own overrides must not change what is measured.
            ScrubbedPrefixes = ["EchoHost__"],
            Environment = environment.AsReadOnly(),
            WorkingDirectory = workingDirectory,
            LogFile = Path.Combine(logDirectory, name.Replace(' ', '-') + ".log"),
            StopTimeout = TimeSpan.FromSeconds(10),
        });

    public static ProcessFigures Figures(this ChildProcess server) => ProcessFigures.Of(server.Id);
}
