using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

public sealed class ChatEndToEndTests
{
    private static Task<TestHost> StartChatAsync(Dictionary<string, string?>? extra = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        return TestHost.StartAsync(config);
    }

    private static Task<ChatClient> Join(TestHost host) => ChatClient.ConnectAsync(host.EndPoint("Chat"));

    /// <summary>Users in the lobby, each having read the join notices of those after it: nothing is pending for anyone.</summary>
    private static async Task<ChatUsers> JoinQuietlyAsync(TestHost host, int count)
    {
        var users = new ChatUsers();
        for (var i = 0; i < count; i++)
        {
            var user = await Join(host);
            foreach (var earlier in users)
            {
                await earlier.ReadUntilAsync(l => l == $"*** {user.Nick} joined lobby");
            }

            users.Add(user);
        }

        return users;
    }

    private sealed class ChatUsers : List<ChatClient>, IDisposable
    {
        public void Dispose() => ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Messages_reach_everyone_else_in_the_room_and_never_the_sender()
    {
        await using var host = await StartChatAsync();
        using var ana = await Join(host);
        using var bob = await Join(host);
        Assert.Equal($"*** {bob.Nick} joined lobby", await ana.ReadLineAsync());
        await ana.SendAsync("/nick ana");
        Assert.Equal("*** You are now known as ana", await ana.ReadLineAsync());
        Assert.Equal($"*** {ana.Nick} is now known as ana", await bob.ReadLineAsync());

        await ana.SendAsync("hola a todos");

        Assert.Equal("<ana> hola a todos", await bob.ReadLineAsync());
        Assert.Empty(await ana.SyncAsync());
        Assert.Equal($"*** lobby (2): ana, {bob.Nick}", ana.LastLine);
    }

    [Fact]
    public async Task Nick_changes_are_checked_and_every_refusal_says_why()
    {
        await using var host = await StartChatAsync();
        using var ana = await Join(host);
        using var bob = await Join(host);
        await ana.SendAsync("/nick Ana");
        await ana.ReadUntilAsync(l => l == "*** You are now known as Ana");
        await bob.ReadUntilAsync(l => l == $"*** {ana.Nick} is now known as Ana");

        await bob.SendAsync("/nick ana");
        Assert.Equal("!!! Cannot use nick 'ana': it is taken.", await bob.ReadLineAsync());
        await bob.SendAsync("/nick Server");
        Assert.Equal("!!! Cannot use nick 'Server': that name is reserved.", await bob.ReadLineAsync());
        await bob.SendAsync("/nick bad!name");
        Assert.Equal("!!! Cannot use nick 'bad!name': a nick may only contain letters, digits, '_', '-' and '.'.", await bob.ReadLineAsync());
        await bob.SendAsync("/nick " + new string('x', 25));
        Assert.Equal($"!!! Cannot use nick '{new string('x', 25)}': a nick has 1 to 24 characters.", await bob.ReadLineAsync());
        await bob.SendAsync("/nick");
        Assert.Equal("!!! Usage: /nick NAME", await bob.ReadLineAsync());

        // Changing only the case of one's own nick is allowed.
        await ana.SendAsync("/nick ANA");
        Assert.Equal("*** You are now known as ANA", await ana.ReadLineAsync());
    }

    [Fact]
    public async Task Rooms_are_isolated_and_moving_announces_it_in_both()
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 3);
        var (ana, bob, cy) = (users[0], users[1], users[2]);

        await bob.SendAsync("/join games");
        Assert.Equal("*** You are now in games (1 here)", await bob.ReadLineAsync());
        Assert.Equal($"*** {bob.Nick} left lobby (joined games)", await ana.ReadLineAsync());
        await cy.SendAsync("/join Games");
        Assert.Equal($"*** {cy.Nick} joined games", await bob.ReadLineAsync());
        Assert.Equal("*** You are now in games (2 here)", await cy.ReadUntilAsync(l => l.StartsWith("*** You are now in", StringComparison.Ordinal)).ContinueWith(_ => cy.LastLine));

        await ana.SendAsync("only for the lobby");
        await bob.SendAsync("only for games");

        Assert.Equal($"<{bob.Nick}> only for games", await cy.ReadLineAsync());
        Assert.Empty(await bob.SyncAsync());
        Assert.Equal([$"*** {cy.Nick} left lobby (joined games)"], await ana.SyncAsync());
        Assert.Equal($"*** games (2): {bob.Nick}, {cy.Nick}", bob.LastLine);

        await ana.SendAsync("/rooms");
        Assert.Equal("*** Rooms (2): games (2), lobby (1)", await ana.ReadLineAsync());
        await ana.SendAsync("/join lobby");
        Assert.Equal("!!! You are already in lobby.", await ana.ReadLineAsync());
        await ana.SendAsync("/join no/slash");
        Assert.Equal("!!! Cannot join 'no/slash': a room name may only contain letters, digits, '_', '-' and '.'.", await ana.ReadLineAsync());
    }

    [Fact]
    public async Task Private_messages_reach_only_their_target()
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 3);
        var (ana, bob, cy) = (users[0], users[1], users[2]);

        await ana.SendAsync($"/msg {bob.Nick.ToUpperInvariant()} psst, only you");

        Assert.Equal($"[msg to {bob.Nick}] psst, only you", await ana.ReadLineAsync());
        Assert.Equal($"[msg from {ana.Nick}] psst, only you", await bob.ReadLineAsync());
        Assert.Empty(await cy.SyncAsync());
        await ana.SendAsync("/msg nobody-here hello?");
        Assert.Equal("!!! No user named 'nobody-here'.", await ana.ReadLineAsync());
        await ana.SendAsync("/msg bob");
        Assert.Equal("!!! Usage: /msg NICK TEXT", await ana.ReadLineAsync());
    }

    [Fact]
    public async Task Me_help_and_unknown_commands()
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 2);
        var (ana, bob) = (users[0], users[1]);

        await ana.SendAsync("/me waves");
        Assert.Equal($"* {ana.Nick} waves", await bob.ReadLineAsync());

        await ana.SendAsync("/help");
        var help = await ana.ReadUntilAsync(l => l == "*** Anything else is sent to everyone in your room.");
        Assert.Contains(help, l => l.Contains("/msg NICK TEXT"));

        await ana.SendAsync("/dance now");
        Assert.Equal("!!! Unknown command /dance; /help lists commands.", await ana.ReadLineAsync());
        await ana.SendAsync("//dance is not a command");
        Assert.Equal($"<{ana.Nick}> /dance is not a command", await bob.ReadLineAsync());
        Assert.Empty(await bob.SyncAsync());
    }

    [Fact]
    public async Task History_is_replayed_on_join_with_timestamps_up_to_history_size()
    {
        await using var host = await StartChatAsync(new() { ["EchoHost:Chat:HistorySize"] = "2" });
        using var ana = await Join(host);
        await ana.SendAsync("one");
        await ana.SendAsync("two");
        await ana.SendAsync("/me three");
        await ana.SyncAsync();

        using var bob = await Join(host);

        Assert.Equal("*** Recent messages in lobby:", bob.Greeting[0]);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] <guest-\d+> two$", bob.Greeting[1]);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] \* guest-\d+ three$", bob.Greeting[2]);
        Assert.Equal(3, bob.Greeting.Count);

        // Joining another room replays that room's history.
        await ana.SendAsync("/join games");
        await ana.SendAsync("in games");
        await ana.SyncAsync();
        await bob.SendAsync("/join games");
        var greeting = await bob.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        Assert.Equal("*** Recent messages in games:", greeting[^2]);
        Assert.EndsWith($"<{ana.Nick}> in games", greeting[^1]);
    }

    [Theory]
    [InlineData("%end%")]
    [InlineData("/quit")]
    public async Task Leaving_says_goodbye_tells_the_room_and_closes(string command)
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 2);
        var (ana, bob) = (users[0], users[1]);

        await bob.SendAsync(command);

        Assert.Equal([$"*** Goodbye, {bob.Nick}!", "%end%"], await bob.ReadToEndAsync());
        Assert.Equal($"*** {bob.Nick} left lobby (quit)", await ana.ReadLineAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains($"{bob.Nick} left lobby (quit)") && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task A_flood_is_cut_with_one_notice_while_a_short_paste_goes_through()
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 2);
        var (ana, bob) = (users[0], users[1]);

        await ana.SendRawAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 5).Select(i => $"paste {i}\n"))));
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal($"<{ana.Nick}> paste {i}", await bob.ReadLineAsync());
        }

        await ana.SendRawAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 60).Select(i => $"flood {i}\n"))));
        var toAna = await ana.ReadLineAsync();

        Assert.Equal("!!! Flood control: slow down; lines are being dropped.", toAna);
        var received = (await bob.SyncAsync()).Count(l => l.Contains("> flood "));
        Assert.InRange(received, 10, 59);
        await host.Logs.WaitForAsync(e => e.Message.Contains("flood control dropping lines") && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task Overlong_and_invalid_lines_get_a_notice_and_the_session_goes_on()
    {
        await using var host = await StartChatAsync(new() { ["EchoHost:Chat:MaxLineBytes"] = "64" });
        using var users = await JoinQuietlyAsync(host, 2);
        var (ana, bob) = (users[0], users[1]);

        await ana.SendAsync(new string('x', 500));
        Assert.Equal("!!! Line too long (max 64 bytes); discarded.", await ana.ReadLineAsync());
        await ana.SendRawAsync([0xC3, 0x28, (byte)'\n']);
        Assert.Equal("!!! Line is not valid UTF-8; discarded.", await ana.ReadLineAsync());
        await ana.SendAsync("still here");

        Assert.Equal($"<{ana.Nick}> still here", await bob.ReadLineAsync());
        Assert.Empty(await bob.SyncAsync());
    }

    [Fact]
    public async Task Telnet_negotiation_and_crlf_are_understood()
    {
        await using var host = await StartChatAsync();
        using var users = await JoinQuietlyAsync(host, 2);
        var (ana, bob) = (users[0], users[1]);

        // What a telnet client may send: option negotiation, a window-size subnegotiation, CRLF and CR NUL endings.
        await bob.SendRawAsync([255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, .. "hi from telnet\r\n"u8, .. "second\r\0"u8]);

        Assert.Equal($"<{bob.Nick}> hi from telnet", await ana.ReadLineAsync());
        Assert.Equal($"<{bob.Nick}> second", await ana.ReadLineAsync());
    }

    [Fact]
    public async Task Max_users_and_max_rooms_are_enforced_with_a_clear_line()
    {
        await using var host = await StartChatAsync(new() { ["EchoHost:Chat:MaxUsers"] = "2", ["EchoHost:Chat:MaxRooms"] = "2" });
        using var ana = await Join(host);
        using var bob = await Join(host);

        using var third = new ChatClientSocket(await SocketExtensions.ConnectAsync(host.EndPoint("Chat")));
        Assert.Equal(["!!! Server full (2 users); try again later.", "%end%"], await third.ReadAllLinesAsync());

        await ana.SendAsync("/join games");
        await ana.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));
        await bob.SendAsync("/join music");
        await bob.ReadUntilAsync(l => l.StartsWith("!!! Cannot join 'music': there are already 2 rooms (MaxRooms).", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Idle_users_are_told_before_they_are_disconnected()
    {
        await using var host = await StartChatAsync(new() { ["EchoHost:Listeners:Chat:IdleTimeout"] = "00:00:01" });
        using var ana = await Join(host);

        var last = await ana.ReadToEndAsync();

        Assert.Equal(["*** Idle for 00:00:01; disconnecting.", "%end%"], last);
    }

    [Fact]
    public async Task Every_user_hears_the_server_shut_down()
    {
        var host = await StartChatAsync();
        var users = new List<ChatClient>();
        for (var i = 0; i < 5; i++)
        {
            users.Add(await Join(host));
        }

        foreach (var user in users)
        {
            await user.SyncAsync();
        }

        var stopping = host.DisposeAsync().AsTask();

        foreach (var user in users)
        {
            var last = await user.ReadToEndAsync();
            Assert.Equal(["*** Server is shutting down. Goodbye!", "%end%"], last.TakeLast(2));
            user.Dispose();
        }

        await stopping;
    }

    [Fact]
    public async Task One_user_filling_the_history_with_control_characters_cannot_get_newcomers_cut()
    {
        // Found by review: each 0x01 became a three-byte U+FFFD, so a line could cost three times MaxLineBytes, and a
        // join replays the whole history at once against the newcomer's queue.
        const int maxLineBytes = 8192, historySize = 20;
        await using var host = await StartChatAsync(new()
        {
            ["EchoHost:Chat:MaxLineBytes"] = maxLineBytes.ToString(),
            ["EchoHost:Chat:HistorySize"] = historySize.ToString(),
            ["EchoHost:Chat:MaxQueuedBytes"] = (2 * historySize * (maxLineBytes + 64)).ToString(), // the least that is valid
            ["EchoHost:Chat:FloodBurst"] = "100",
        });
        using var attacker = await Join(host);

        // The costliest lines that are accepted, then lines that would have cost three times the limit.
        for (var i = 0; i < historySize; i++)
        {
            await attacker.SendAsync("x" + new string('\u0001', maxLineBytes / 3)); // after a visible character: kept
        }

        for (var i = 0; i < historySize; i++)
        {
            await attacker.SendAsync("x" + new string('\u0001', maxLineBytes - 1));
        }

        var answers = await attacker.SyncAsync();
        Assert.Equal(historySize, answers.Count(l => l == $"!!! Line too long (max {maxLineBytes} bytes); discarded."));

        var newcomers = new List<ChatClient>();
        for (var i = 0; i < 10; i++)
        {
            var newcomer = await Join(host);
            Assert.Equal(historySize, newcomer.Greeting.Count(l => l.EndsWith(new string('\uFFFD', maxLineBytes / 3), StringComparison.Ordinal)));
            newcomers.Add(newcomer);
        }

        foreach (var newcomer in newcomers)
        {
            await newcomer.SyncAsync();
            newcomer.Dispose();
        }

        Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains("slow reader"));
    }

    [Fact]
    public async Task A_slow_reader_is_disconnected_without_slowing_anyone_else()
    {
        const int senders = 30, messagesEach = 200;
        await using var host = await StartChatAsync(new()
        {
            // Inside the flood allowance: this test is about the slow reader, not flood control.
            ["EchoHost:Chat:FloodBurst"] = "1000",
            ["EchoHost:Chat:FloodLinesPerSecond"] = "1000",
            // Room for a reading client that is briefly behind on this 2-core machine; a reader that stops still overflows.
            ["EchoHost:Chat:MaxQueuedBytes"] = "1048576",
        });
        var endPoint = host.EndPoint("Chat");

        // The slow user never reads, with a small receive window so it stops taking data early.
        var slowSocket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await slowSocket.ConnectAsync(endPoint);
        using var reader = await Join(host);

        var clients = new List<ChatClient>();
        for (var i = 0; i < senders; i++)
        {
            clients.Add(await Join(host));
        }

        // Senders read what others send (else they would be slow readers too) while writing ~1.5 KB lines.
        var drains = clients.Select(c => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await c.ReadLineAsync();
                }
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        })).ToList();
        // The reading user reads all along and must get every single message.
        var slowLeft = false;
        var reading = Task.Run(async () =>
        {
            var count = 0;
            while (count < senders * messagesEach)
            {
                var line = await reader.ReadLineAsync();
                if (line.StartsWith("<guest-", StringComparison.Ordinal))
                {
                    count++;
                }
                else if (line.Contains("left lobby (too slow to read)"))
                {
                    slowLeft = true;
                }
            }

            return count;
        });

        var text = new string('m', 1500);
        await Task.WhenAll(clients.Select((c, n) => Task.Run(async () =>
        {
            for (var i = 0; i < messagesEach; i++)
            {
                await c.SendAsync($"{n}:{i}:{text}");
                await Task.Delay(10); // a chatty human paste, not a firehose: ~100 lines/s per sender
            }
        })));
        var received = await reading.WaitAsync(TestTimeouts.Long);

        Assert.Equal(senders * messagesEach, received);
        var disconnected = await host.Logs.WaitForAsync(e => e.Message.Contains("disconnected as a slow reader"));
        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed (slow reader)"));
        Assert.InRange((long)disconnected.State["QueuedBytes"]!, 1, 1024 * 1024);
        if (!slowLeft)
        {
            await reader.ReadUntilAsync(l => l.Contains("left lobby (too slow to read)"));
        }

        Assert.True(await slowSocket.WaitForServerCloseAsync());

        slowSocket.Dispose();
        clients.ForEach(c => c.Dispose());
        await Task.WhenAll(drains);
    }

    /// <summary>For connections the server refuses before any greeting.</summary>
    private sealed class ChatClientSocket(Socket socket) : IDisposable
    {
        public async Task<List<string>> ReadAllLinesAsync()
        {
            var bytes = await socket.ReceiveToEndAsync();
            return Encoding.UTF8.GetString(bytes).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).ToList();
        }

        public void Dispose() => socket.Dispose();
    }
}
