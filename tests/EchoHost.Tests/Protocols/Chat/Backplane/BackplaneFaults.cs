using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;
using Npgsql;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>
/// The built EchoHost as a child process with the chat backplane on a test database: the process as shipped (its
/// runtime settings, its signals), so that what a stuck database does to the rest of the instance shows from outside.
/// </summary>
internal sealed class BackplaneHost : IAsyncDisposable
{
    private BackplaneHost(HostProcess process, IPEndPoint echo, IPEndPoint chat, Uri http)
    {
        Process = process;
        Echo = echo;
        Chat = chat;
        Http = http;
    }

    public HostProcess Process { get; }

    public IPEndPoint Echo { get; }

    public IPEndPoint Chat { get; }

    public Uri Http { get; }

    /// <summary>
    /// Starts EchoHost on <paramref name="connectionString"/> and waits until its backplane is connected. Npgsql's
    /// connection timeout is left at its default (15 s), as a user would have it.
    /// </summary>
    public static async Task<BackplaneHost> StartAsync(string connectionString, params string[] args)
    {
        var process = HostProcess.Start([.. HostProcess.LoopbackPortZero, $"--EchoHost:Chat:Postgres={connectionString.Replace("Timeout=5;", "", StringComparison.Ordinal)}", .. args]);
        try
        {
            var echo = await process.ListenerPortAsync("Echo");
            var chat = await process.ListenerPortAsync("Chat");
            var http = await process.WaitForOutputAsync(new Regex(@"HTTP endpoint listening on (?<endpoint>\S+)"));
            await process.WaitForOutputAsync(new Regex("Chat backplane: connected"));
            return new BackplaneHost(process, new IPEndPoint(IPAddress.Loopback, echo), new IPEndPoint(IPAddress.Loopback, chat), new Uri($"http://{http.Groups["endpoint"].Value}/"));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new echo connection answers a round trip within <paramref name="within"/>; throws naming what did not.</summary>
    public async Task AssertEchoWithinAsync(TimeSpan within)
    {
        try
        {
            await Task.Run(async () =>
            {
                using var socket = await SocketExtensions.ConnectAsync(Echo);
                var probe = "probe\n"u8.ToArray();
                await socket.SendAllAsync(probe);
                Assert.Equal(probe, await socket.ReceiveExactlyAsync(probe.Length, within));
            }).WaitAsync(within);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            Assert.Fail($"an echo round trip on the same instance was not answered within {within.TotalSeconds} s");
        }
    }

    /// <summary>/healthz answers 200 within <paramref name="within"/>.</summary>
    public async Task AssertHealthyWithinAsync(TimeSpan within)
    {
        using var client = new HttpClient { BaseAddress = Http, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var response = await client.GetAsync("healthz").WaitAsync(within);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        catch (Exception ex) when (ex is TimeoutException or TaskCanceledException)
        {
            Assert.Fail($"/healthz on the same instance did not answer within {within.TotalSeconds} s");
        }
    }

    /// <summary>A new chat user gets the welcome line within <paramref name="within"/>; returns the connected user.</summary>
    public async Task<ChatClient> AssertWelcomedWithinAsync(TimeSpan within)
    {
        try
        {
            return await ChatClient.ConnectAsync(Chat).WaitAsync(within);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"a new chat user was not welcomed within {within.TotalSeconds} s");
            throw;
        }
    }

    /// <summary>SIGTERM; the process exits with code 0 within <paramref name="within"/>.</summary>
    public async Task AssertStopsWithinAsync(TimeSpan within)
    {
        Process.Signal(HostProcess.SIGTERM);
        try
        {
            Assert.Equal(0, await Process.WaitForExitAsync(within));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"EchoHost did not exit within {within.TotalSeconds} s of SIGTERM");
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

/// <summary>
/// The processes of the test PostgreSQL server (the postmaster and its children), found from a backend through
/// /proc, to be frozen with SIGSTOP as a dead node whose TCP is still up, and thawed again.
/// </summary>
internal sealed partial class PostgresProcesses : IDisposable
{
    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;
    private const int SIGTERM = 15;

    private readonly List<int> _stopped = [];

    private PostgresProcesses(int postmaster, int listenBackend)
    {
        Postmaster = postmaster;
        ListenBackend = listenBackend;
    }

    public int Postmaster { get; }

    /// <summary>The backend of EchoHost's LISTEN connection (0 when there is none yet).</summary>
    public int ListenBackend { get; }

    /// <summary>
    /// Finds the postmaster of <paramref name="connectionString"/>'s server and the LISTEN backend of the EchoHost
    /// connected as <paramref name="applicationName"/>.
    /// </summary>
    public static async Task<PostgresProcesses> FindAsync(string connectionString, string applicationName = "echohost")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestTimeouts.Token());
        await using var self = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await self.ExecuteScalarAsync(TestTimeouts.Token()))!;
        await using var listen = new NpgsqlCommand(
            "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", connection)
        {
            Parameters = { new() { Value = applicationName } },
        };
        var listenBackend = (int)(await listen.ExecuteScalarAsync(TestTimeouts.Token()))!;
        return new PostgresProcesses(ParentOf(backend), listenBackend);
    }

    /// <summary>SIGSTOP to the postmaster, then to each of its children but <paramref name="except"/>.</summary>
    public void Freeze(params int[] except)
    {
        Send(Postmaster, SIGSTOP);
        _stopped.Add(Postmaster);
        foreach (var child in ChildrenOf(Postmaster).Where(pid => !except.Contains(pid)))
        {
            if (kill(child, SIGSTOP) == 0)
            {
                _stopped.Add(child);
            }
        }
    }

    /// <summary>What pg_terminate_backend does (and a restart or a failover, seen from the client): SIGTERM to one backend.</summary>
    public static void Terminate(int backend) => Send(backend, SIGTERM);

    public void Thaw()
    {
        foreach (var pid in _stopped)
        {
            _ = kill(pid, SIGCONT);
        }

        _stopped.Clear();
    }

    public void Dispose() => Thaw();

    private static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static int ParentOf(int pid) => int.TryParse(Stat(pid)?.Split(' ')[1], out var parent) ? parent : throw new InvalidOperationException($"no process {pid}");

    /// <summary>"state ppid ..." of /proc/pid/stat, after the command name (which may hold spaces and parentheses).</summary>
    private static string? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Stat(pid)?.Split(' ') is [_, var ppid, ..] && ppid == parent.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

/// <summary>
/// Chat users in the lobby, each saying a line every <c>interval</c> (within flood control) and reading everything, so
/// that the backplane's writer always has a batch in flight.
/// </summary>
internal sealed class ChatLoad : IAsyncDisposable
{
    private readonly List<Socket> _users;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private long _sent;

    private ChatLoad(List<Socket> users) => _users = users;

    public long Sent => Interlocked.Read(ref _sent);

    public static async Task<ChatLoad> StartAsync(IPEndPoint chat, int users, TimeSpan interval)
    {
        var sockets = new List<Socket>();
        for (var i = 0; i < users; i++)
        {
            sockets.Add(await SocketExtensions.ConnectAsync(chat));
        }

        var load = new ChatLoad(sockets);
        for (var i = 0; i < sockets.Count; i++)
        {
            load._loops.Add(load.ReadAsync(sockets[i]));
            load._loops.Add(load.SayAsync(sockets[i], i, interval));
        }

        return load;
    }

    private async Task ReadAsync(Socket socket)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task SayAsync(Socket socket, int user, TimeSpan interval)
    {
        try
        {
            // Spread over the interval, so that lines arrive all the time rather than in bursts.
            await Task.Delay(interval * user / Math.Max(_users.Count, 1), _stop.Token);
            for (var line = 0; !_stop.IsCancellationRequested; line++)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes($"line {line} from user {user}\n"), SocketFlags.None, _stop.Token);
                Interlocked.Increment(ref _sent);
                await Task.Delay(interval, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _users.ForEach(s => s.Dispose());
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
