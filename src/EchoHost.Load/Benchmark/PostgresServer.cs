using System.Diagnostics;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// The chat scale-out row's PostgreSQL: <c>initdb</c> into a folder of the benchmark's temporary folder and
/// <c>postgres</c> on a free loopback port, tuned for a throw-away database (fsync, full-page writes and synchronous
/// commit off), stopped at the end. PostgreSQL refuses to run as root: as root it runs as <c>nobody</c>, which then
/// owns that folder.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    public const string InstallHint = "not installed: sudo apt-get install postgresql";

    private const string RunAs = "nobody";

    private readonly string _binDirectory;
    private readonly string _dataDirectory;
    private bool _running;

    private PostgresServer(string binDirectory, string root, int port)
    {
        _binDirectory = binDirectory;
        Root = root;
        _dataDirectory = Path.Combine(root, "data");
        Port = port;
    }

    public string Root { get; }

    public int Port { get; }

    /// <summary>The connection string EchoHost gets (<c>EchoHost:Chat:Postgres</c>).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    /// <summary>PostgreSQL's programs (pg_config --bindir, else the newest /usr/lib/postgresql/N/bin); null when not installed.</summary>
    public static string? FindBinDirectory()
    {
        static bool HasServer(string? dir) => dir is not null && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        var pgConfig = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "pg_config")).FirstOrDefault(File.Exists);
        if (pgConfig is not null && Run(pgConfig, ["--bindir"]) is (0, var bin, _) && HasServer(bin.Trim()))
        {
            return bin.Trim();
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

    /// <summary>Creates a cluster in a new temporary folder and starts it on <paramref name="port"/>; returns once it accepts connections.</summary>
    public static PostgresServer Start(string binDirectory, int port)
    {
        // Its own folder, not inside the benchmark's: that one is private to us (0700), and as root the server runs as nobody.
        var directory = Directory.CreateTempSubdirectory("echohost-benchmark-pg-").FullName;
        var server = new PostgresServer(binDirectory, directory, port);
        try
        {
            if (Environment.IsPrivilegedProcess)
            {
                server.Check(Run("chown", [$"{RunAs}:", directory]), "chown");
            }

            server.Check(server.Tool("initdb", "-D", server._dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"), "initdb");
            var options = $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100";
            server.Check(server.Tool("pg_ctl", "start", "-D", server._dataDirectory, "-l", Path.Combine(directory, "postgres.log"), "-w", "-t", "60", "-o", options), "pg_ctl start");
            server._running = true;
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>The CPU time of the postmaster and every backend it runs (user + system, from /proc).</summary>
    public ProcessFigures Figures()
    {
        var pidFile = Path.Combine(_dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster))
        {
            return default;
        }

        ProcessFigures total = default;
        foreach (var pid in new[] { postmaster }.Concat(ChildrenOf(postmaster)))
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

    private static IEnumerable<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                var list = File.ReadAllText(Path.Combine(task, "children"));
                children.AddRange(list.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return children;
    }

    public string Tail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(Path.Combine(Root, "postgres.log")).TakeLast(15));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public void Dispose()
    {
        if (_running)
        {
            _running = false;
            Tool("pg_ctl", "stop", "-D", _dataDirectory, "-m", "immediate", "-w", "-t", "30");
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private (int ExitCode, string Output, string Error) Tool(string tool, params string[] arguments)
    {
        var program = Path.Combine(_binDirectory, tool);
        return Environment.IsPrivilegedProcess ? Run("runuser", ["-u", RunAs, "--", program, .. arguments]) : Run(program, arguments);
    }

    private void Check((int ExitCode, string Output, string Error) result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new BenchmarkException($"PostgreSQL: {what} failed (exit code {result.ExitCode}): {(result.Error + result.Output).Trim()}\n{Tail()}");
        }
    }

    private static (int ExitCode, string Output, string Error) Run(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, "", ex.Message);
        }
    }
}
