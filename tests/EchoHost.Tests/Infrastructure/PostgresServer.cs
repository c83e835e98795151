using EchoHost.Harness;
using Npgsql;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server of its own for the tests that need one: the harness's <see cref="PostgresCluster"/> on a
/// free loopback port, created when the collection starts and removed at its end. It can be stopped and started again
/// on the same port with the same data, for outage tests. Each test takes a database of its own.
/// Shared by the tests of <see cref="PostgresCollection"/>.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string InstallCommand = PostgresCluster.InstallCommand;

    private PostgresCluster? _cluster;
    private int _databases;

    /// <summary>Where PostgreSQL's programs are (pg_config --bindir, else /usr/lib/postgresql/&lt;newest&gt;/bin); null when not installed.</summary>
    public static string? BinDirectory { get; } = PostgresCluster.FindBinDirectory();

    /// <summary>Why the tests that need PostgreSQL cannot run here, with the install command; null when they can.</summary>
    public static string? WhyMissing => BinDirectory is null ? $"PostgreSQL is not installed; install it: {InstallCommand}" : null;

    public int Port => Cluster.Port;

    public bool IsRunning => _cluster?.IsRunning ?? false;

    private PostgresCluster Cluster => _cluster ?? throw new InvalidOperationException(WhyMissing ?? "PostgreSQL has not started.");

    public async Task InitializeAsync()
    {
        if (BinDirectory is null)
        {
            return;
        }

        _cluster = await PostgresCluster.StartNewAsync(BinDirectory, SocketExtensions.FreeLoopbackPort(), maxConnections: 200);
    }

    /// <summary>Starts the server (again), on the same port with the same data; returns once it accepts connections.</summary>
    public Task StartAsync() => Cluster.StartAsync();

    /// <summary>Stops the server at once (fast shutdown: every client connection is closed).</summary>
    public Task StopAsync() => Cluster.StopAsync();

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"echohost_test_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(TestTimeouts.Token());
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync(TestTimeouts.Token());
        return ConnectionString(name);
    }

    public string ConnectionString(string database) => $"{Cluster.ConnectionString(database)};Timeout=5;Pooling=false";

    public async Task DisposeAsync()
    {
        if (_cluster is null)
        {
            return;
        }

        // A clean stop first, as a test's own StopAsync would: a failure to stop fails the collection.
        if (_cluster.IsRunning)
        {
            await _cluster.StopAsync();
        }

        await _cluster.DisposeAsync();
    }
}

/// <summary>The tests that share one <see cref="PostgresServer"/>; they run one after another (some stop the server).</summary>
[CollectionDefinition(nameof(PostgresCollection))]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>A fact that needs PostgreSQL: skipped with the install command where it is missing (CI installs it, and fails on a skip).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute() => Skip = PostgresServer.WhyMissing;
}

/// <summary>A theory that needs PostgreSQL, skipped as <see cref="PostgresFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute() => Skip = PostgresServer.WhyMissing;
}
