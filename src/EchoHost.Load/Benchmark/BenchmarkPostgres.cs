using EchoHost.Harness;

namespace EchoHost.Load.Benchmark;

/// <summary>The chat scale-out row's PostgreSQL: a <see cref="PostgresCluster"/> on a port the benchmark picked, and its CPU time.</summary>
internal static class BenchmarkPostgres
{
    public const string InstallHint = "not installed: sudo apt-get install postgresql";

    public static Task<PostgresCluster> StartAsync(string binDirectory, int port) =>
        PostgresCluster.StartNewAsync(binDirectory, port, maxConnections: 100, folderPrefix: "echohost-benchmark-pg-");

    /// <summary>The CPU time of the postmaster and every backend it runs (user + system, from /proc).</summary>
    public static ProcessFigures Figures(this PostgresCluster database)
    {
        ProcessFigures total = default;
        foreach (var pid in database.ServerProcessIds())
        {
            try
            {
                total += ProcessFigures.Of(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // a backend that ended meanwhile
            }
        }

        return total;
    }
}
