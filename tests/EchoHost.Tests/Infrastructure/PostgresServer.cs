using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server of its own for the tests that need one: <c>initdb</c> into a temporary folder and
/// <c>postgres</c> on a free loopback port (Unix socket in that folder too), stopped and removed at the end. It can be
/// stopped and started again on the same port with the same data, for outage tests. PostgreSQL refuses to run as
/// root: as root, it runs as <c>nobody</c>, which owns the folder. Each test takes a database of its own.
/// Shared by the tests of <see cref="PostgresCollection"/>.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string InstallCommand = "sudo apt-get install -y postgresql";

    private const string RunAs = "nobody";

    private string? _root;
    private int _databases;

    /// <summary>Where PostgreSQL's programs are (pg_config --bindir, else /usr/lib/postgresql/&lt;newest&gt;/bin); null when not installed.</summary>
    public static string? BinDirectory { get; } = FindBinDirectory();

    /// <summary>Why the tests that need PostgreSQL cannot run here, with the install command; null when they can.</summary>
    public static string? WhyMissing => BinDirectory is null ? $"PostgreSQL is not installed; install it: {InstallCommand}" : null;

    public int Port { get; private set; }

    public bool IsRunning { get; private set; }

    private string DataDirectory => Path.Combine(_root!, "data");

    public async Task InitializeAsync()
    {
        if (BinDirectory is null)
        {
            return;
        }

        _root = Directory.CreateTempSubdirectory("echohost-pg-").FullName;
        if (Environment.IsPrivilegedProcess)
        {
            (await ExternalTools.RunAsync("chown", [$"{RunAs}:", _root])).EnsureSuccess();
        }

        (await RunPostgresToolAsync("initdb", "-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")).EnsureSuccess();
        Port = FreeLoopbackPort();
        await StartAsync();
    }

    /// <summary>Starts the server (again), on the same port with the same data; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        var options = $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
        (await RunPostgresToolAsync("pg_ctl", "start", "-D", DataDirectory, "-l", Path.Combine(_root!, "postgres.log"), "-w", "-t", "60", "-o", options)).EnsureSuccess();
        IsRunning = true;
    }

    /// <summary>Stops the server at once (fast shutdown: every client connection is closed).</summary>
    public async Task StopAsync()
    {
        (await RunPostgresToolAsync("pg_ctl", "stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60")).EnsureSuccess();
        IsRunning = false;
    }

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

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5;Pooling=false";

    public async Task DisposeAsync()
    {
        if (_root is null)
        {
            return;
        }

        if (IsRunning)
        {
            await StopAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    private Task<ToolResult> RunPostgresToolAsync(string tool, params string[] arguments)
    {
        var program = Path.Combine(BinDirectory!, tool);
        return Environment.IsPrivilegedProcess
            ? ExternalTools.RunAsync("runuser", ["-u", RunAs, "--", program, .. arguments])
            : ExternalTools.RunAsync(program, arguments);
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string? FindBinDirectory()
    {
        static bool HasServer(string? dir) => dir is not null && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        if (ExternalTools.Find("pg_config") is { } pgConfig)
        {
            try
            {
                var bin = ExternalTools.RunAsync(pgConfig, ["--bindir"]).GetAwaiter().GetResult().StandardOutput.Trim();
                if (HasServer(bin))
                {
                    return bin;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }

        const string debian = "/usr/lib/postgresql";
        return Directory.Exists(debian)
            ? Directory.GetDirectories(debian)
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(HasServer)
                .OrderByDescending(dir => int.TryParse(Path.GetFileName(Path.GetDirectoryName(dir)), out var major) ? major : 0)
                .FirstOrDefault()
            : null;
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
