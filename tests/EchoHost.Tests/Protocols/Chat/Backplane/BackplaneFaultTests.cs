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

    private static async Task WaitForLinesAsync(ChatLoad load, long lines)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (load.Sent < lines)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
        }
    }
}
