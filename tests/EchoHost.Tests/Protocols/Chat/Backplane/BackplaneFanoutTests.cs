using System.Globalization;
using System.Text;
using EchoHost.Tests.Infrastructure;
using Npgsql;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>
/// The backplane's queue under a flood, on two real instances and a real PostgreSQL: a sender who queues more than
/// the writer can take is refused (and told, logged, counted), never a bystander.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class BackplaneFanoutTests(PostgresServer postgres)
{
    private const string BackplaneCategory = "EchoHost.Protocols.Chat.Backplane.PostgresChatBackplane";

    internal static async Task<TestHost> StartInstanceAsync(string database, int floodBurst = 20, Dictionary<string, string?>? extra = null,
        Action<WebApplicationBuilder>? customize = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Chat:Postgres"] = database,
            ["EchoHost:Chat:FloodBurst"] = floodBurst.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        var host = await TestHost.StartAsync(config, customize);
        await host.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        return host;
    }

    /// <summary>A user on <paramref name="host"/> who took <paramref name="nick"/> (and <paramref name="room"/>, if not the lobby).</summary>
    internal static async Task<ChatClient> JoinAsAsync(TestHost host, string nick, string? room = null)
    {
        var user = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await user.SendAsync($"/nick {nick}");
        await user.ReadUntilAsync(l => l == $"*** You are now known as {nick}");
        if (room is not null)
        {
            await user.SendAsync($"/join {room}");
            await user.ReadUntilAsync(l => l.StartsWith($"*** You are now in {room}", StringComparison.Ordinal));
        }

        return user;
    }

    [PostgresFact]
    public async Task A_flooding_sender_is_refused_and_told_while_a_bystanders_lines_all_cross_once()
    {
        var database = await postgres.CreateDatabaseAsync();
        // The flooder's instance lets a user send a whole burst at once (flood control would otherwise stop it first).
        await using var a = await StartInstanceAsync(database, floodBurst: 1_000_000);
        await using var b = await StartInstanceAsync(database);
        using var alice = await JoinAsAsync(a, "alice");
        using var carol = await JoinAsAsync(a, "carol");
        using var watcher = await JoinAsAsync(a, "watcher", "flood");
        using var flooder = await JoinAsAsync(a, "flooder", "flood");
        using var bob = await JoinAsAsync(b, "bob");
        await alice.ReadUntilAsync(l => l.EndsWith(" is now known as bob", StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestTimeouts.Token());
        // A's writer is held up on its first stored line, so that what comes next waits in its queue.
        await using var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        await using (var hold = new NpgsqlCommand("LOCK TABLE echohost.chat_history IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await hold.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        await flooder.SendAsync("first");
        await WaitForBlockedStatementAsync(database);

        // More lines than the whole queue holds, in one write: the chat core queues them as fast as it reads them.
        const int Burst = 12_000;
        var burst = new StringBuilder();
        for (var i = 0; i < Burst; i++)
        {
            burst.Append(CultureInfo.InvariantCulture, $"f{i}\n");
        }

        await flooder.SendRawAsync(Encoding.UTF8.GetBytes(burst.Append("marker\n").ToString()));
        await watcher.ReadUntilAsync(l => l == "<flooder> marker");

        // Meanwhile a bystander says ten lines (carol, beside alice, sees they were said).
        for (var i = 1; i <= 10; i++)
        {
            await alice.SendAsync($"bystander {i}");
        }

        await carol.ReadUntilAsync(l => l == "<alice> bystander 10");
        await transaction.RollbackAsync(TestTimeouts.Token());

        // Every one of the bystander's lines reaches bob, once, in order.
        var seen = bob.ReadUntilAsync(l => l.StartsWith("<alice> after ", StringComparison.Ordinal));
        using (var deadline = new CancellationTokenSource(TestTimeouts.Long))
        {
            for (var i = 1; !seen.IsCompleted; i++)
            {
                deadline.Token.ThrowIfCancellationRequested();
                await alice.SendAsync($"after {i}");
                await Task.WhenAny(seen, Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token));
            }
        }

        Assert.Equal(
            Enumerable.Range(1, 10).Select(i => $"<alice> bystander {i}"),
            (await seen).Where(l => l.StartsWith("<alice> bystander ", StringComparison.Ordinal)));

        // The flooder was told, once for the episode; the log says so once, with counts; /metrics has its own reason.
        var notices = (await flooder.SyncAsync()).Where(l => l.StartsWith("!!!", StringComparison.Ordinal)).ToList();
        Assert.Equal("!!! The other servers are behind: slow down; your lines reach only this server's users for now.", Assert.Single(notices));
        var refusal = await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.Contains("refusing", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, refusal.Level);
        var caughtUp = await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.Contains("caught up", StringComparison.Ordinal));
        Assert.Contains("from 1 senders", caughtUp.Message);
        var samples = await a.ScrapeAsync();
        var refused = samples.Value("echohost_chat_backplane_unpublished_total", ("reason", "backlog"));
        Assert.InRange(refused, 1, Burst);
        Assert.Contains($"{refused} events", caughtUp.Message);
        Assert.Equal(0, samples.Value("echohost_chat_backplane_unpublished_total", ("reason", "unreachable")));
        Assert.Equal(1, samples.Value("echohost_chat_backplane_connected"));
    }

    internal static async Task WaitForBlockedStatementAsync(string database)
    {
        await using var waiting = new NpgsqlConnection(database);
        await waiting.OpenAsync(TestTimeouts.Token());
        await using var blocked = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE NOT granted", waiting);
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while ((long)(await blocked.ExecuteScalarAsync(deadline.Token))! == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
        }
    }
}
