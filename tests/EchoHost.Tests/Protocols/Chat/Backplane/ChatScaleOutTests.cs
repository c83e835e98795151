using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Tests.Infrastructure;
using Npgsql;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>
/// Two real EchoHost instances (in-process, port 0) on one real PostgreSQL server, with chat users on each: what
/// crosses, what is shared, and what happens while the database is away.
/// </summary>
[Collection(nameof(PostgresCollection))]
public sealed class ChatScaleOutTests(PostgresServer postgres)
{
    private const string BackplaneCategory = "EchoHost.Protocols.Chat.Backplane.PostgresChatBackplane";

    private static async Task<TestHost> StartInstanceAsync(string database, int historySize = 20, BackplaneTimings? timings = null)
    {
        var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Chat:Postgres"] = database,
            ["EchoHost:Chat:HistorySize"] = historySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, builder =>
        {
            if (timings is not null)
            {
                builder.Services.AddSingleton(timings);
            }
        });
        await host.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        return host;
    }

    /// <summary>A user on <paramref name="host"/> who took <paramref name="nick"/>.</summary>
    private static async Task<ChatClient> JoinAsAsync(TestHost host, string nick)
    {
        var user = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await user.SendAsync($"/nick {nick}");
        // Notices from other instances about what happened just before may still arrive first: skip them.
        Assert.Equal($"*** You are now known as {nick}", await ReadAsync(user, l => l.StartsWith("*** You are now known as ", StringComparison.Ordinal) || l.StartsWith("!!!", StringComparison.Ordinal)));
        return user;
    }

    /// <summary>Two instances in one room: alice (and carol) on the first, bob on the second, each seen by the others.</summary>
    private static async Task<TwoInstances> AliceWithBobElsewhereAsync(string database, bool withCarol = false, BackplaneTimings? timings = null)
    {
        var a = await StartInstanceAsync(database, timings: timings);
        var b = await StartInstanceAsync(database, timings: timings);
        var alice = await JoinAsAsync(a, "alice");
        var carol = withCarol ? await JoinAsAsync(a, "carol") : null;
        var bob = await JoinAsAsync(b, "bob");
        await ReadAsync(alice, l => l.EndsWith(" is now known as bob", StringComparison.Ordinal));
        if (carol is not null)
        {
            await ReadAsync(carol, l => l.EndsWith(" is now known as bob", StringComparison.Ordinal));
        }

        return new TwoInstances(a, b, alice, carol, bob);
    }

    private sealed record TwoInstances(TestHost A, TestHost B, ChatClient Alice, ChatClient? Carol, ChatClient Bob) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Alice.Dispose();
            Carol?.Dispose();
            Bob.Dispose();
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    private static Task<string> NextMessageAsync(ChatClient user) => ReadAsync(user, l => !l.StartsWith("***", StringComparison.Ordinal));

    private static async Task<string> ReadAsync(ChatClient user, Func<string, bool> match)
    {
        await user.ReadUntilAsync(match);
        return user.LastLine;
    }

    private static async Task<HttpStatusCode> ReadyzAsync(TestHost host)
    {
        using var http = host.CreateHttpClient();
        using var response = await http.GetAsync("readyz");
        return response.StatusCode;
    }

    [PostgresTheory]
    [InlineData(20)]
    [InlineData(0)] // no history kept: the lines' statement is NOTIFYs alone
    public async Task Messages_cross_both_ways_once_in_order_and_never_back_to_the_sender(int historySize)
    {
        var database = await postgres.CreateDatabaseAsync();
        // Started together: the schema is created once, the other instance waits for it.
        var hosts = await Task.WhenAll(StartInstanceAsync(database, historySize), StartInstanceAsync(database, historySize));
        await using var a = hosts[0];
        await using var b = hosts[1];
        using var alice = await JoinAsAsync(a, "alice");
        using var bob = await JoinAsAsync(b, "bob");
        await ReadAsync(alice, l => l.EndsWith(" is now known as bob", StringComparison.Ordinal));

        await alice.SendAsync("hello from A");
        Assert.Equal("<alice> hello from A", await NextMessageAsync(bob));
        await bob.SendAsync("hello from B");
        Assert.Equal("<bob> hello from B", await NextMessageAsync(alice));
        await bob.SendAsync("/me waves");
        Assert.Equal("* bob waves", await NextMessageAsync(alice));

        // A longest line of 3-byte characters crosses whole (2046 bytes; MaxLineBytes is 2048).
        var wide = new string('€', 682);
        await alice.SendAsync(wide);
        Assert.Equal($"<alice> {wide}", await NextMessageAsync(bob));

        // Several lines at once: all arrive, in order, each once.
        for (var i = 1; i <= 10; i++)
        {
            await alice.SendAsync($"line {i}");
        }

        await alice.SendAsync("done");
        var received = await bob.ReadUntilAsync(l => l == "<alice> done");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"<alice> line {i}"), received);

        // Nothing came back to the sender, nothing is pending twice for the receiver.
        Assert.DoesNotContain(await alice.SyncAsync(), l => l.StartsWith("<alice>", StringComparison.Ordinal));
        Assert.Empty(await bob.SyncAsync());

        var samples = await a.ScrapeAsync();
        // The metrics reference (docs/observability.md) documents exactly the backplane's series.
        var documented = Regex.Matches(Repository.Doc("docs/observability.md"), @"^\| `(?<name>echohost_chat_backplane_[a-z_]+)` \|", RegexOptions.Multiline)
            .Select(m => m.Groups["name"].Value);
        Assert.Equal(documented.Order(), samples.All.Select(s => s.Name).Where(n => n.StartsWith("echohost_chat_backplane_", StringComparison.Ordinal)).Distinct().Order());
        Assert.Equal(1, samples.Value("echohost_chat_backplane_connected"));
        Assert.True(samples.Value("echohost_chat_backplane_published_total") >= 13);
        Assert.True(samples.Value("echohost_chat_backplane_received_total") >= 2);
        Assert.Equal(0, samples.Value("echohost_chat_backplane_errors_total"));
    }

    [PostgresFact]
    public async Task Private_messages_who_and_rooms_span_the_instances()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database);
        var (a, b, alice, _, bob) = room;

        await alice.SendAsync("/msg BOB psst");
        Assert.Equal("[msg to bob] psst", await alice.ReadLineAsync());
        Assert.Equal("[msg from alice] psst", await NextMessageAsync(bob));
        await bob.SendAsync("/msg alice hi back");
        Assert.Equal("[msg to alice] hi back", await bob.ReadLineAsync());
        Assert.Equal("[msg from bob] hi back", await NextMessageAsync(alice));
        await alice.SendAsync("/msg carol anyone?");
        Assert.Equal("!!! No user named 'carol'.", await alice.ReadLineAsync());

        await alice.SendAsync("/who");
        Assert.Equal("*** lobby (2): alice, bob", await alice.ReadLineAsync());

        await bob.SendAsync("/join games");
        await ReadAsync(bob, l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        Assert.Equal("*** bob left lobby (joined games)", await alice.ReadLineAsync());
        await alice.SendAsync("/rooms");
        Assert.Equal("*** Rooms (2): games (1), lobby (1)", await alice.ReadLineAsync());
        await alice.SendAsync("/join games");
        Assert.Equal("*** alice joined games", await ReadAsync(bob, l => l.StartsWith("*** alice", StringComparison.Ordinal)));
        await ReadAsync(alice, l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        await alice.SendAsync("/who");
        Assert.Equal("*** games (2): alice, bob", await alice.ReadLineAsync());
    }

    [PostgresFact]
    public async Task Instances_keep_heartbeating_while_lines_keep_coming()
    {
        // Every instance hears every NOTIFY, its own too: lines far more often than the heartbeat interval mean that no
        // instance ever waits a whole interval in silence. Short timings, so that expiry would happen within seconds.
        var timings = new BackplaneTimings(HeartbeatInterval: TimeSpan.FromSeconds(2), InstanceLifetime: TimeSpan.FromSeconds(5));
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database, timings: timings);
        var (a, _, alice, _, bob) = room;

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestTimeouts.Token());
        await using var now = new NpgsqlCommand("SELECT now()", connection);
        var started = (DateTime)(await now.ExecuteScalarAsync(TestTimeouts.Token()))!;

        // Traffic until, by the database's clock, longer than a lifetime plus an interval has passed.
        await using var over = new NpgsqlCommand("SELECT now() > $1 + $2::interval", connection)
        {
            Parameters = { new() { Value = started }, new() { Value = timings.InstanceLifetime + timings.HeartbeatInterval } },
        };
        // (Alice and bob take turns, each well within the flood limit.)
        using var deadline = new CancellationTokenSource(TestTimeouts.Long);
        for (var i = 1; !(bool)(await over.ExecuteScalarAsync(deadline.Token))!; i++)
        {
            var (from, to, nick) = i % 2 == 0 ? (alice, bob, "alice") : (bob, alice, "bob");
            await from.SendAsync($"line {i}");
            Assert.Equal($"<{nick}> line {i}", await NextMessageAsync(to));
            await Task.Delay(TimeSpan.FromMilliseconds(150), deadline.Token);
        }

        // Both instances said they are alive during the traffic, so each still counts for the other.
        await using var fresh = new NpgsqlCommand("SELECT count(*) FROM echohost.chat_instances WHERE seen_at > $1 AND seen_at > now() - $2::interval", connection)
        {
            Parameters = { new() { Value = started }, new() { Value = timings.InstanceLifetime } },
        };
        Assert.Equal(2L, await fresh.ExecuteScalarAsync(TestTimeouts.Token()));
        await alice.SendAsync("/who");
        Assert.Equal("*** lobby (2): alice, bob", await ReadAsync(alice, l => l.StartsWith("*** lobby", StringComparison.Ordinal)));
        await alice.SendAsync("/msg bob still there?");
        Assert.Equal("[msg from alice] still there?", await NextMessageAsync(bob));
        Assert.Equal(1, (await a.ScrapeAsync()).Value("echohost_chat_backplane_connected"));
    }

    [PostgresFact]
    public async Task A_nick_is_unique_across_instances_and_free_again_when_its_owner_leaves()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartInstanceAsync(database);
        await using var b = await StartInstanceAsync(database);
        using var alice = await JoinAsAsync(a, "alice");
        using var other = await ChatClient.ConnectAsync(b.EndPoint("Chat"));
        Assert.NotEqual(alice.Nick, other.Nick);

        // (The notices of alice's arrival may still be on their way to the other instance: skip them.)
        await other.SendAsync("/nick ALICE");
        Assert.Equal("!!! Cannot use nick 'ALICE': it is taken.", await ReadAsync(other, l => !l.StartsWith("*** ", StringComparison.Ordinal)));

        await alice.SendAsync("/quit");
        Assert.Equal("*** alice left lobby (quit)", await ReadAsync(other, l => l.Contains(" left lobby", StringComparison.Ordinal)));
        await other.SendAsync("/nick alice");
        Assert.Equal("*** You are now known as alice", await other.ReadLineAsync());
    }

    [PostgresFact]
    public async Task History_replays_on_join_from_every_instance_and_after_both_restart()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var a = await StartInstanceAsync(database))
        await using (var b = await StartInstanceAsync(database))
        {
            using var alice = await JoinAsAsync(a, "alice");
            await alice.SendAsync("/join games");
            await ReadAsync(alice, l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
            await alice.SendAsync("one");
            await alice.SendAsync("two");
            await alice.SyncAsync(); // after the lines, through the same queue: they are stored

            using var bob = await JoinAsAsync(b, "bob");
            await bob.SendAsync("/join games");
            var replay = await bob.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
            AssertHistory(replay, "<alice> one", "<alice> two");
        }

        // Both instances stopped; two new ones find the history in the database.
        await using var c = await StartInstanceAsync(database);
        await using var d = await StartInstanceAsync(database);
        using var carol = await JoinAsAsync(d, "carol");
        await carol.SendAsync("/join games");
        AssertHistory(await carol.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal)), "<alice> one", "<alice> two");
    }

    [PostgresFact]
    public async Task The_stored_history_is_capped_per_room()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartInstanceAsync(database, historySize: 2);
        await using var b = await StartInstanceAsync(database, historySize: 2);
        using var alice = await JoinAsAsync(a, "alice");
        await alice.SendAsync("/join games");
        await ReadAsync(alice, l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        foreach (var line in new[] { "one", "two", "three" })
        {
            await alice.SendAsync(line);
        }

        await alice.SendAsync("/join lobby");
        await alice.SendAsync("in the lobby");
        await alice.SyncAsync();

        // The table is trimmed by the heartbeat: wait for it (bounded), then the join replays the last two.
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(TestTimeouts.Token());
            using var deadline = new CancellationTokenSource(TestTimeouts.Default);
            while (true)
            {
                await using var count = new NpgsqlCommand("SELECT count(*) FROM echohost.chat_history WHERE room_key = 'games'", connection);
                if ((long)(await count.ExecuteScalarAsync(deadline.Token))! == 2)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
            }

            await using var lobby = new NpgsqlCommand("SELECT count(*) FROM echohost.chat_history WHERE room_key = 'lobby'", connection);
            Assert.Equal(1L, await lobby.ExecuteScalarAsync(TestTimeouts.Token()));
        }

        using var bob = await JoinAsAsync(b, "bob");
        await bob.SendAsync("/join GAMES");
        AssertHistory(await bob.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal)), "<alice> two", "<alice> three");
    }

    private static void AssertHistory(List<string> lines, params string[] messages)
    {
        var start = lines.IndexOf("*** Recent messages in games:");
        Assert.True(start >= 0, string.Join("\n", lines));
        var entries = lines.Skip(start + 1).Take(messages.Length).ToList();
        Assert.Equal(messages.Length, entries.Count);
        for (var i = 0; i < messages.Length; i++)
        {
            Assert.Matches(@"^\[\d\d:\d\d:\d\d\] ", entries[i]);
            Assert.EndsWith("] " + messages[i], entries[i]);
        }
    }

    [PostgresFact]
    public async Task An_instance_that_stopped_without_leaving_expires_with_its_users()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartInstanceAsync(database);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(TestTimeouts.Token());
            await using var crashed = new NpgsqlCommand("""
                INSERT INTO echohost.chat_instances (id, seen_at) VALUES ('00000000-0000-0000-0000-000000000001', now() - interval '5 minutes');
                INSERT INTO echohost.chat_members (nick, room, instance_id) VALUES ('ghost', 'lobby', '00000000-0000-0000-0000-000000000001');
                """, connection);
            await crashed.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        using var bob = await JoinAsAsync(a, "bob");
        await bob.SendAsync("/who");
        Assert.Equal("*** lobby (1): bob", await bob.ReadLineAsync());

        // The next heartbeat removes the silent instance and frees its nicks.
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            await bob.SendAsync("/nick ghost");
            if (await bob.ReadLineAsync() == "*** You are now known as ghost")
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token);
        }
    }

    [PostgresFact]
    public async Task While_the_database_is_down_chat_stays_local_and_crossing_resumes_when_it_returns()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database, withCarol: true);
        var (a, b, alice, carol, bob) = room;
        Assert.NotNull(carol);

        await postgres.StopAsync();
        try
        {
            await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Level == LogLevel.Warning);
            await b.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Level == LogLevel.Warning);

            // Local delivery goes on; the room is what this instance has.
            await alice.SendAsync("still here");
            Assert.Equal("<alice> still here", await NextMessageAsync(carol));
            await alice.SendAsync("/who");
            Assert.Equal("*** lobby (2): alice, carol", await ReadAsync(alice, l => l.StartsWith("*** lobby", StringComparison.Ordinal)));
            Assert.Equal(HttpStatusCode.OK, await ReadyzAsync(a));

            // Nick uniqueness is local meanwhile: both get "zed"; the reconnection settles it.
            await carol.SendAsync("/nick zed");
            Assert.Equal("*** You are now known as zed", await ReadAsync(carol, l => l.StartsWith("*** You are now known as", StringComparison.Ordinal)));
            await bob.SendAsync("/nick zed");
            Assert.Equal("*** You are now known as zed", await ReadAsync(bob, l => l.StartsWith("*** You are now known as", StringComparison.Ordinal)));

            // It keeps retrying (each failed attempt is an error) and still warned only once.
            using var deadline = new CancellationTokenSource(TestTimeouts.Default);
            while ((await a.ScrapeAsync()).Value("echohost_chat_backplane_errors_total") < 3)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
            }

            var samples = await a.ScrapeAsync();
            Assert.Equal(0, samples.Value("echohost_chat_backplane_connected"));
            Assert.True(samples.Value("echohost_chat_backplane_unpublished_total", ("reason", "unreachable")) >= 1);
            Assert.Single(a.Logs.Entries, e => e.Category == BackplaneCategory && e.Level >= LogLevel.Warning);
        }
        finally
        {
            await postgres.StartAsync();
        }

        await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.Contains("reachable again", StringComparison.Ordinal), TestTimeouts.Long);
        await b.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.Contains("reachable again", StringComparison.Ordinal), TestTimeouts.Long);
        Assert.Single(a.Logs.Entries, e => e.Category == BackplaneCategory && e.Level >= LogLevel.Warning);

        // Both register their users again: one "zed" keeps it, the other becomes a guest and is told. The notice may
        // come after the answer to a /who asked meanwhile (it is delivered apart), so ask until it has come, then once
        // more to see that no second one follows.
        var lost = new List<string>();
        using (var settled = new CancellationTokenSource(TestTimeouts.Long))
        {
            for (var round = 0; lost.Count == 0 || round < 2; round = lost.Count == 0 ? 0 : round + 1)
            {
                lost.AddRange((await carol.SyncAsync()).Concat(await bob.SyncAsync()).Where(l => l.StartsWith("!!! Your nick zed was taken", StringComparison.Ordinal)));
                if (lost.Count == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), settled.Token);
                }
            }
        }

        Assert.Single(lost);

        await alice.SendAsync("back again");
        Assert.Equal("<alice> back again", await NextMessageAsync(bob));
        await bob.SendAsync("welcome back");
        Assert.EndsWith("> welcome back", await NextMessageAsync(alice));
        await alice.SendAsync("/who");
        var who = await ReadAsync(alice, l => l.StartsWith("*** lobby", StringComparison.Ordinal));
        Assert.StartsWith("*** lobby (3): ", who);
        Assert.Equal(HttpStatusCode.OK, await ReadyzAsync(a));
        Assert.Equal(1, (await a.ScrapeAsync()).Value("echohost_chat_backplane_connected"));
    }

    [PostgresFact]
    public async Task A_connection_the_database_kills_is_replaced_and_crossing_resumes()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database);
        var (a, b, alice, _, bob) = room;

        // The writing connections (not the listening ones) are killed, as an administrator or a failover would.
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(TestTimeouts.Token());
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'echohost' AND query NOT LIKE 'LISTEN%'", connection);
            Assert.Equal(2L, await kill.ExecuteScalarAsync(TestTimeouts.Token()));
        }

        // A's next line finds its connection dead: that line stays here, A warns once and reconnects. B, idle, finds
        // out with its next heartbeat.
        await alice.SendAsync("anyone?");
        foreach (var host in new[] { a, b })
        {
            await host.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Message.Contains("reachable again", StringComparison.Ordinal), TestTimeouts.Long);
            Assert.Single(host.Logs.Entries, e => e.Category == BackplaneCategory && e.Level >= LogLevel.Warning);
        }

        await alice.SendAsync("back");
        Assert.Equal("<alice> back", await NextMessageAsync(bob));
        await bob.SendAsync("/msg alice hi");
        Assert.Equal("[msg from bob] hi", await NextMessageAsync(alice));
    }

    [PostgresFact]
    public async Task A_statement_the_database_refuses_is_one_warning_and_the_connection_stays()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database, withCarol: true);
        var (a, b, alice, carol, bob) = room;
        Assert.NotNull(carol);

        // Someone broke the history table by hand: storing a message fails, everything else goes on.
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(TestTimeouts.Token());
            await using var breakIt = new NpgsqlCommand("ALTER TABLE echohost.chat_history RENAME COLUMN line TO broken", connection);
            await breakIt.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        // Back to back, so the two may reach the database in one batch or in two: either way each refused statement
        // is an error (a batch of two once counted as one).
        await alice.SendAsync("first");
        await alice.SendAsync("second");
        Assert.Equal("<alice> first", await NextMessageAsync(carol));
        Assert.Equal("<alice> second", await NextMessageAsync(carol));
        await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Level == LogLevel.Warning);

        // Still connected: what needs no history still crosses.
        await alice.SendAsync("/msg bob still there?");
        Assert.Equal("[msg from alice] still there?", await NextMessageAsync(bob));
        // Counted once the batch's results are read, which can be after its NOTIFYs were delivered.
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while ((await a.ScrapeAsync()).Value("echohost_chat_backplane_errors_total") < 2)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
        }

        var samples = await a.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_chat_backplane_connected"));
        var warning = Assert.Single(a.Logs.Entries, e => e.Category == BackplaneCategory && e.Level >= LogLevel.Warning);
        Assert.Contains("refused a statement", warning.Message);
    }

    [PostgresFact]
    public async Task A_refused_statement_loses_only_what_it_carried_not_the_events_batched_with_it()
    {
        // No heartbeat but the first: nothing else may come between the events queued below.
        var timings = BackplaneTimings.Default with { HeartbeatInterval = TimeSpan.FromHours(1) };
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database, withCarol: true, timings: timings);
        var (a, _, alice, carol, bob) = room;
        Assert.NotNull(carol);
        using var dave = await JoinAsAsync(a, "dave");
        using var erin = await JoinAsAsync(a, "erin");
        await ReadAsync(bob, l => l.EndsWith(" is now known as erin", StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestTimeouts.Token());
        // Storing a message fails from now on (someone broke the history table by hand).
        await using (var breakIt = new NpgsqlCommand("ALTER TABLE echohost.chat_history RENAME COLUMN line TO broken", connection))
        {
            await breakIt.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        // A's writer is held up by a /who waiting for a lock, so that what happens next queues up and goes in one batch.
        await using var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        await using (var hold = new NpgsqlCommand("LOCK TABLE echohost.chat_members IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await hold.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        await dave.SendAsync("/who");
        await using (var waiting = new NpgsqlConnection(database))
        {
            await waiting.OpenAsync(TestTimeouts.Token());
            await using var blocked = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE NOT granted", waiting);
            using var deadline = new CancellationTokenSource(TestTimeouts.Default);
            while ((long)(await blocked.ExecuteScalarAsync(deadline.Token))! == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
            }
        }

        // Queued in this order: a notice, a line the database refuses, a notice, another refused line.
        await carol.SendAsync("/quit");
        await ReadAsync(alice, l => l == "*** carol left lobby (quit)");
        await alice.SendAsync("refused");
        await erin.SendAsync("/quit");
        await ReadAsync(alice, l => l == "*** erin left lobby (quit)");
        await alice.SendAsync("marker");
        // dave saw the marker: every event before it was queued (the chat core queues them in the order it saw them).
        Assert.Equal("<alice> marker", await ReadAsync(dave, l => l.StartsWith("<alice> marker", StringComparison.Ordinal)));
        await transaction.RollbackAsync(TestTimeouts.Token());

        // Both notices crossed; only the refused lines stayed on A.
        var before = await bob.ReadUntilAsync(l => l == "*** erin left lobby (quit)");
        Assert.Equal(new[] { "*** carol left lobby (quit)" }, before);
        Assert.Empty(await bob.SyncAsync());
        await a.Logs.WaitForAsync(e => e.Category == BackplaneCategory && e.Level == LogLevel.Warning);
        var samples = await a.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_chat_backplane_connected"));
        Assert.Equal(2, samples.Value("echohost_chat_backplane_unpublished_total", ("reason", "statement_failed")));
    }

    [PostgresFact]
    public async Task A_line_is_one_notify_however_many_recipients_the_other_instance_has()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var room = await AliceWithBobElsewhereAsync(database, withCarol: true);
        var (a, b, alice, carol, bob) = room;
        Assert.NotNull(carol);
        using var dave = await JoinAsAsync(a, "dave");
        await ReadAsync(bob, l => l.EndsWith(" is now known as dave", StringComparison.Ordinal));
        // Through B's writer, after everything B published so far; A has received all of it (bob's notices were read).
        await bob.SyncAsync();
        var publishedBefore = (await b.ScrapeAsync()).Value("echohost_chat_backplane_published_total");
        var receivedBefore = (await a.ScrapeAsync()).Value("echohost_chat_backplane_received_total");

        await bob.SendAsync("hello all three");
        foreach (var user in new[] { alice, carol, dave })
        {
            Assert.Equal("<bob> hello all three", await NextMessageAsync(user));
        }

        await bob.SyncAsync();
        Assert.Equal(publishedBefore + 1, (await b.ScrapeAsync()).Value("echohost_chat_backplane_published_total"));
        Assert.Equal(receivedBefore + 1, (await a.ScrapeAsync()).Value("echohost_chat_backplane_received_total"));
    }

    [PostgresFact]
    public async Task The_schema_is_created_once_when_instances_start_together_and_left_alone_after()
    {
        var database = await postgres.CreateDatabaseAsync();
        async Task<int> EnsureAsync()
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync(TestTimeouts.Token());
            return await BackplaneSchema.EnsureAsync(connection, TestTimeouts.Token());
        }

        var found = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => EnsureAsync()));
        Assert.Equal(1, found.Count(v => v == 0));
        Assert.Equal(3, found.Count(v => v == BackplaneSchema.Version));
        Assert.Equal(BackplaneSchema.Version, await EnsureAsync());

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestTimeouts.Token());
        await using var versions = new NpgsqlCommand("SELECT count(*) FROM echohost.schema_version", connection);
        Assert.Equal((long)BackplaneSchema.Version, await versions.ExecuteScalarAsync(TestTimeouts.Token()));
    }
}
