using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>
/// The backplane's database stuck in the worst ways, with the process as shipped: its LISTEN connection dropped while
/// the rest of the server is frozen (SIGSTOP, a dead node whose TCP is still up), or the whole server frozen. Whatever
/// the database does, unrelated clients of the instance are served, chat users wait on it only a few seconds, the
/// outage is noticed, and SIGTERM stops the instance within its shutdown budget.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class BackplaneFaultTests(PostgresServer postgres)
{
    /// <summary>Generous: a served client answers in milliseconds; the stalls these tests guard against lasted 15 s and more.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [PostgresFact]
    public async Task A_dropped_listen_connection_with_the_database_frozen_does_not_delay_echo_or_healthz()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var host = await BackplaneHost.StartAsync(database);
        await using var load = await ChatLoad.StartAsync(host.Chat, users: 20, interval: TimeSpan.FromMilliseconds(250));
        await WaitForLinesAsync(load, 100);

        using var pg = await PostgresProcesses.FindAsync(database);
        Assert.NotEqual(0, pg.ListenBackend);
        try
        {
            // Everything but the LISTEN backend stops: the writer's batch stays in flight, and whatever Npgsql sends
            // to the server (a cancel request) gets no answer. Then the LISTEN connection is dropped.
            pg.Freeze(except: pg.ListenBackend);
            var sent = load.Sent;
            await WaitForLinesAsync(load, sent + 40);
            PostgresProcesses.Terminate(pg.ListenBackend);
            await host.Process.WaitForOutputAsync(new Regex("Chat backplane: PostgreSQL .* cannot be reached"), TestTimeouts.Default);

            for (var i = 0; i < 5; i++)
            {
                await host.AssertEchoWithinAsync(Bound);
                await host.AssertHealthyWithinAsync(Bound);
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
        finally
        {
            pg.Thaw();
        }
    }

    [PostgresFact]
    public async Task With_the_database_frozen_a_new_user_is_welcomed_a_nick_is_answered_and_the_outage_is_logged()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var host = await BackplaneHost.StartAsync(database);
        using var alice = await ChatClient.ConnectAsync(host.Chat);

        using var pg = await PostgresProcesses.FindAsync(database);
        try
        {
            pg.Freeze();

            // The database answers nothing; users get the outage rules (a local guest nick, a local nick) in seconds.
            using var newcomer = await host.AssertWelcomedWithinAsync(Bound);
            await alice.SendAsync("/nick alice");
            var answer = await ReadWithinAsync(alice, l => l.StartsWith("*** You are now known as", StringComparison.Ordinal) || l.StartsWith("!!!", StringComparison.Ordinal), Bound);
            Assert.Equal("*** You are now known as alice", answer);

            // Noticed without any line said, by the heartbeat: one warning.
            await host.Process.WaitForOutputAsync(new Regex("Chat backplane: PostgreSQL .* cannot be reached"), Bound);

            // Chat goes on locally meanwhile.
            await alice.SendAsync("anyone?");
            Assert.Equal("<alice> anyone?", await ReadWithinAsync(newcomer, l => l.StartsWith('<'), Bound));
        }
        finally
        {
            pg.Thaw();
        }
    }

    [PostgresFact]
    public async Task Sigterm_with_a_busy_backplane_and_the_database_frozen_stops_within_the_shutdown_budget()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var host = await BackplaneHost.StartAsync(database, "--EchoHost:ShutdownTimeout=00:00:03");
        await using var load = await ChatLoad.StartAsync(host.Chat, users: 20, interval: TimeSpan.FromMilliseconds(250));
        await WaitForLinesAsync(load, 100);

        using var pg = await PostgresProcesses.FindAsync(database);
        try
        {
            pg.Freeze();
            var sent = load.Sent;
            await WaitForLinesAsync(load, sent + 40);

            // 3 s of budget: well within the bound, far from the 40 s and more it took.
            await host.AssertStopsWithinAsync(Bound);
        }
        finally
        {
            pg.Thaw();
        }
    }

    private static async Task WaitForLinesAsync(ChatLoad load, long lines)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (load.Sent < lines)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
        }
    }

    private static async Task<string> ReadWithinAsync(ChatClient user, Func<string, bool> match, TimeSpan within)
    {
        try
        {
            await user.ReadUntilAsync(match).WaitAsync(within);
            return user.LastLine;
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no answer within {within.TotalSeconds} s");
            throw;
        }
    }
}
