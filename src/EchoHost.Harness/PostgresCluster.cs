namespace EchoHost.Harness;

/// <summary>
/// A throw-away PostgreSQL server: <c>initdb</c> into a new temporary folder and <c>postgres</c> on a loopback port
/// (its Unix socket in that folder too), tuned for data nobody keeps (fsync, full-page writes and synchronous commit
/// off), stopped and removed on dispose. It can be stopped and started again on the same port with the same data, for
/// outage tests. PostgreSQL refuses to run as root: as root it runs as <c>nobody</c>, which then owns the folder.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string InstallCommand = "sudo apt-get install -y postgresql";

    private const string RunAs = "nobody";

    /// <summary>Each PostgreSQL program run is stopped after this (pg_ctl itself waits at most 60 s).</summary>
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);

    private readonly string _binDirectory;
    private readonly int _maxConnections;

    private PostgresCluster(string binDirectory, string root, int port, int maxConnections)
    {
        _binDirectory = binDirectory;
        Root = root;
        Port = port;
        _maxConnections = maxConnections;
    }

    /// <summary>The temporary folder: the data directory, the Unix socket and postgres.log.</summary>
    public string Root { get; }

    public int Port { get; }

    public bool IsRunning { get; private set; }

    private string DataDirectory => Path.Combine(Root, "data");

    private string LogFile => Path.Combine(Root, "postgres.log");

    /// <summary>PostgreSQL's programs (pg_config --bindir, else the newest /usr/lib/postgresql/N/bin); null when not installed.</summary>
    public static string? FindBinDirectory()
    {
        static bool HasServer(string? dir) => dir is not null && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        if (ProcessRunner.Find("pg_config") is { } pgConfig
            && ProcessRunner.Run(pgConfig, ["--bindir"], ToolTimeout) is { ExitCode: 0 } result
            && HasServer(result.StandardOutput.Trim()))
        {
            return result.StandardOutput.Trim();
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

    /// <summary>
    /// Creates a cluster in a new temporary folder (named <paramref name="folderPrefix"/>…) and starts it on
    /// <paramref name="port"/>; returns once it accepts connections.
    /// </summary>
    public static async Task<PostgresCluster> StartNewAsync(string binDirectory, int port, int maxConnections, string folderPrefix = "echohost-pg-")
    {
        var root = Directory.CreateTempSubdirectory(folderPrefix).FullName;
        var cluster = new PostgresCluster(binDirectory, root, port, maxConnections);
        try
        {
            if (Environment.IsPrivilegedProcess)
            {
                Check(await ProcessRunner.RunAsync("chown", [$"{RunAs}:", root], ToolTimeout), "chown", cluster);
            }

            Check(await cluster.ToolAsync("initdb", "-D", cluster.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"), "initdb", cluster);
            await cluster.StartAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again), on the same port with the same data; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        var options = $"-p {Port} -k {Root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections={_maxConnections}";
        Check(await ToolAsync("pg_ctl", "start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options), "pg_ctl start", this);
        IsRunning = true;
    }

    /// <summary>
    /// Stops the server: fast (every client connection is closed, then a clean shutdown), or immediate (no clean
    /// shutdown, for a cluster about to be deleted).
    /// </summary>
    public async Task StopAsync(bool immediate = false)
    {
        Check(await ToolAsync("pg_ctl", "stop", "-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", immediate ? "30" : "60"), "pg_ctl stop", this);
        IsRunning = false;
    }

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>The postmaster and every backend it runs now, for figures read from /proc; empty when not running.</summary>
    public IReadOnlyList<int> ServerProcessIds()
    {
        var ids = new List<int>();
        try
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster))
            {
                return ids;
            }

            ids.Add(postmaster);
            foreach (var task in Directory.GetDirectories($"/proc/{postmaster}/task"))
            {
                var children = File.ReadAllText(Path.Combine(task, "children"));
                foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    ids.Add(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // the server stopping meanwhile: the ids read so far
        }

        return ids;
    }

    /// <summary>The last lines of postgres.log.</summary>
    public string Tail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(15));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>Stops a running server at once (immediate) and deletes the folder; a failure to stop is not an error here.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            IsRunning = false;
            await ToolAsync("pg_ctl", "stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30");
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private Task<ProcessResult> ToolAsync(string tool, params string[] arguments)
    {
        var program = Path.Combine(_binDirectory, tool);
        return Environment.IsPrivilegedProcess
            ? ProcessRunner.RunAsync("runuser", ["-u", RunAs, "--", program, .. arguments], ToolTimeout)
            : ProcessRunner.RunAsync(program, arguments, ToolTimeout);
    }

    private static void Check(ProcessResult result, string what, PostgresCluster cluster)
    {
        if (result.ExitCode != 0)
        {
            throw new HarnessException(
                $"PostgreSQL: {what} failed (exit code {result.ExitCode}): {result.CommandLine}\n{(result.StandardError + result.StandardOutput).Trim()}\npostgres.log ends:\n{cluster.Tail()}");
        }
    }
}
