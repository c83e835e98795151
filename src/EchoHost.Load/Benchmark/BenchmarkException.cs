namespace EchoHost.Load.Benchmark;

/// <summary>The benchmark cannot go on: one line (or a server's log) for the user, exit code 1.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
