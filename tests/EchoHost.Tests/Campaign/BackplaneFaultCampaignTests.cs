using System.Collections.Concurrent;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Chat.Backplane;
using Npgsql;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// The chat backplane's database failing every way it does in production, one after another, under chat load on two
/// instances (the shipped binary): the LISTEN connections terminated (a restart, a failover), the LISTEN connection
/// dropped while the rest of the server is frozen (the worst case: whatever EchoHost asks, nothing answers), the whole
/// server frozen (a dead node whose TCP is still up), and the server stopped. Throughout, a probe measures that an
/// unrelated client of the loaded instance is unaffected: every echo round trip and /healthz answered within a bound;
/// after each fault, lines cross between the instances again.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(PostgresCollection))]
public sealed class BackplaneFaultCampaignTests(PostgresServer postgres)
{
    /// <summary>What a probe may take at most: a served client answers in milliseconds.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [PostgresFact]
    public async Task Backplane_faults_under_chat_load_leave_unrelated_clients_unaffected_and_chat_crosses_again_after_each()
    {
        // Lines per second on the loaded instance: 80 in the short run, 100 in the long one (each delivered to every
        // user in the room: 50,000 deliveries a second with 500 users).
        var users = CampaignRun.Size(20, 500);
        var interval = TimeSpan.FromMilliseconds(CampaignRun.Size(250, 5_000));
        var rounds = CampaignRun.Size(1, 3);

        // Each fault lasts longer than the backplane's deadline (the short run takes a shorter one, to be quick).
        var faultTime = TimeSpan.FromSeconds(CampaignRun.Size(2, 20));
        string[] settings = ["--EchoHost:ShutdownTimeout=00:00:05", CampaignRun.Long ? "--EchoHost:Chat:PostgresTimeout=00:00:03" : "--EchoHost:Chat:PostgresTimeout=00:00:01"];

        var database = await postgres.CreateDatabaseAsync();
        await using var a = await BackplaneHost.StartAsync(database + ";Application Name=echohost-a", settings);
        await using var b = await BackplaneHost.StartAsync(database + ";Application Name=echohost-b", settings);
        using var speaker = await ChatClient.ConnectAsync(a.Chat);
        using var watcher = await ChatClient.ConnectAsync(b.Chat);
        var heard = new ConcurrentQueue<string>();
        var draining = Task.WhenAll(DrainAsync(speaker, _ => { }), DrainAsync(watcher, l =>
        {
            if (l.Contains("crossing ", StringComparison.Ordinal))
            {
                heard.Enqueue(l);
            }
        }));
        await AssertCrossesAsync(speaker, heard, "before");

        // Both instances busy (so that each user reads lines all the time, local ones during an outage), the first more.
        await using var load = await ChatLoad.StartAsync(a.Chat, users, interval);
        await using var otherLoad = await ChatLoad.StartAsync(b.Chat, 2 + (users / 10), interval);
        await using var probe = Probe.Start(a);

        var faults = new (string Name, Func<Task> Run)[]
        {
            ("terminate", async () =>
            {
                await TerminateListenersAsync(database);
                await Task.Delay(faultTime);
            }),
            ("freeze then terminate", async () =>
            {
                using var pg = await PostgresProcesses.FindAsync(database, "echohost-a");
                try
                {
                    pg.Freeze(except: pg.ListenBackend);
                    await Task.Delay(TimeSpan.FromMilliseconds(500));
                    PostgresProcesses.Terminate(pg.ListenBackend);
                    await Task.Delay(faultTime);
                }
                finally
                {
                    pg.Thaw();
                }
            }),
            ("freeze", async () =>
            {
                using var pg = await PostgresProcesses.FindAsync(database, "echohost-a");
                try
                {
                    pg.Freeze();
                    await Task.Delay(faultTime);
                }
                finally
                {
                    pg.Thaw();
                }
            }),
            ("stop", async () =>
            {
                await postgres.StopAsync();
                try
                {
                    await Task.Delay(faultTime);
                }
                finally
                {
                    await postgres.StartAsync();
                }
            }),
        };

        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, run) in faults)
            {
                await run();
                await AssertCrossesAsync(speaker, heard, $"after {name} {round}");
            }
        }

        var (probes, failures) = await probe.StopAsync();
        Assert.True(probes > 0);
        Assert.Empty(failures);
        Assert.True(load.Sent > users);

        // Each fault was an outage of its own on the loaded instance, noticed (one warning) and over (one line).
        var output = a.Process.StandardOutput;
        Assert.True(Count(output, "cannot be reached") >= faults.Length * rounds, output);
        Assert.True(Count(output, "is reachable again") >= faults.Length * rounds, output);

        // The loaded instance still stops within its budget.
        await a.AssertStopsWithinAsync(TimeSpan.FromSeconds(15));
        speaker.Dispose();
        watcher.Dispose();
        await draining;
    }

    private static int Count(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));

    /// <summary>Reads every line the user gets (so that the user is never cut as a slow reader) until the connection ends.</summary>
    private static Task DrainAsync(ChatClient user, Action<string> line) => Task.Run(async () =>
    {
        try
        {
            while (true)
            {
                line(await user.ReadLineAsync());
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    });

    private static async Task TerminateListenersAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestTimeouts.Token());
        await using var kill = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'echohost-%' AND query LIKE 'LISTEN%'", connection);
        Assert.Equal(2L, await kill.ExecuteScalarAsync(TestTimeouts.Token()));
    }

    /// <summary>
    /// Lines said on one instance reach the other again: the speaker says a numbered line every half second until the
    /// other instance's user hears one (lines said while the backplane is still reconnecting stay on their instance).
    /// </summary>
    private static async Task AssertCrossesAsync(ChatClient speaker, ConcurrentQueue<string> heard, string when)
    {
        var marker = $"crossing {when} {Guid.NewGuid():N}";
        using var deadline = new CancellationTokenSource(TestTimeouts.Long);
        for (var i = 0; !heard.Any(l => l.Contains(marker, StringComparison.Ordinal)); i++)
        {
            Assert.False(deadline.IsCancellationRequested, $"lines did not cross between the instances {when}");
            await speaker.SendAsync($"{marker} #{i}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>An unrelated client of the instance, all along: an echo round trip on a new connection and /healthz, every 200 ms, each within <see cref="Bound"/>.</summary>
    private sealed class Probe : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _failures = [];
        private Task<int> _loop = Task.FromResult(0);

        public static Probe Start(BackplaneHost host)
        {
            var probe = new Probe();
            probe._loop = Task.Run(() => probe.RunAsync(host));
            return probe;
        }

        private async Task<int> RunAsync(BackplaneHost host)
        {
            var probes = 0;
            while (!_stop.IsCancellationRequested)
            {
                foreach (var (what, check) in new (string, Func<Task>)[] { ("echo", () => host.AssertEchoWithinAsync(Bound)), ("/healthz", () => host.AssertHealthyWithinAsync(Bound)) })
                {
                    try
                    {
                        await check();
                    }
                    catch (Exception ex)
                    {
                        lock (_failures)
                        {
                            _failures.Add($"{what} probe {probes}: {ex.Message}");
                        }
                    }

                    probes++;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }

            return probes;
        }

        public async Task<(int Probes, List<string> Failures)> StopAsync()
        {
            await _stop.CancelAsync();
            var probes = await _loop;
            lock (_failures)
            {
                return (probes, [.. _failures]);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
