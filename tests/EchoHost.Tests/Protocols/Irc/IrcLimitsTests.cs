using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>
/// The line chat's limits on the IRC listener, and bad input: each gets a clear numeric or a clean close, the
/// connection (when it stays) still works, other users see nothing of it, and nothing is logged as an error.
/// </summary>
public sealed class IrcLimitsTests
{
    private static void AssertNoErrorsLogged(TestHost host) =>
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Error || e.Exception is not null);

    [Fact]
    public async Task A_line_over_512_bytes_gets_417_and_the_connection_stays()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        var (bea, _) = await IrcHost.RegisterAsync(host, "bea");
        using var _2 = bea;
        await ana.ExpectAsync(" JOIN #lobby");

        // 510 bytes and CRLF is the most; one more is too long.
        var fits = "PRIVMSG #lobby :" + new string('a', 510 - "PRIVMSG #lobby :".Length);
        await ana.SendAsync(fits + "b");
        Assert.Equal(":echohost 417 ana :Input line was too long", await ana.ReadLineAsync());
        await ana.SendAsync(fits);
        // With the sender's prefix it no longer fits one line: bea reads it in two, each within 512 bytes.
        const string head = ":ana!~chat@echohost PRIVMSG #lobby :";
        var parts = new[] { await bea.ReadLineAsync(), await bea.ReadLineAsync() };
        Assert.All(parts, p => Assert.StartsWith(head, p));
        Assert.All(parts, p => Assert.True(Encoding.UTF8.GetByteCount(p) <= 510));
        Assert.Equal(fits["PRIVMSG #lobby :".Length..], string.Concat(parts.Select(p => p[head.Length..])));
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task A_line_without_an_end_is_refused_once_and_bounded_and_the_client_goes_on()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;

        var endless = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        for (var i = 0; i < 16; i++)
        {
            await ana.SendRawAsync(endless);
        }

        await ana.SendRawAsync("\r\n"u8.ToArray());
        Assert.Equal([":echohost 417 ana :Input line was too long"], await ana.SyncAsync());
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task Garbage_binary_invalid_utf8_and_unknown_commands_get_an_answer_and_nobody_else_hears_them()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await ana.ExpectAsync(" JOIN #lobby");

        await ana.SendAsync("FROBNICATE now");
        Assert.Equal(":echohost 421 ana FROBNICATE :Unknown command", await ana.ReadLineAsync());
        await ana.SendRawAsync([0xC3, 0x28, 0xFF, 0xFE, (byte)'\r', (byte)'\n']);
        Assert.Equal(":echohost NOTICE ana :Line is not valid UTF-8; discarded.", await ana.ReadLineAsync());
        await ana.SendRawAsync([0x00, 0x01, 0x02, 0x1B, (byte)'[', (byte)'2', (byte)'J', (byte)'\n']);
        Assert.StartsWith(":echohost 421 ana ", await ana.ReadLineAsync());
        await ana.SendAsync("PRIVMSG #lobby :\u001b[2Jcleared?\u202Eevil");
        Assert.Equal("<ana> \uFFFD[2Jcleared?\uFFFDevil", await line.ReadLineAsync());
        await ana.SendAsync("PRIVMSG #elsewhere :hi");
        Assert.Equal(":echohost 442 ana #elsewhere :You're not on that channel", await ana.ReadLineAsync());
        await ana.SendAsync("NOTICE #elsewhere :hi");
        await ana.SendAsync("PRIVMSG");
        Assert.Equal(":echohost 411 ana :No recipient given (PRIVMSG)", await ana.ReadLineAsync());
        await ana.SendAsync("JOIN");
        Assert.Equal(":echohost 461 ana JOIN :Not enough parameters", await ana.ReadLineAsync());
        await ana.SendAsync("JOIN lobby");
        Assert.Equal(":echohost 403 ana lobby :No such channel", await ana.ReadLineAsync());
        await ana.SendAsync("JOIN #no/slashes");
        Assert.StartsWith(":echohost 479 ana #no/slashes :Illegal channel name", await ana.ReadLineAsync());
        Assert.Empty(await line.SyncAsync());
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task Thousands_of_joins_and_a_nick_flood_are_cut_by_flood_control_with_one_notice_and_quit_still_works()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        var (bea, _) = await IrcHost.RegisterAsync(host, "bea");
        using var _2 = bea;
        await ana.ExpectAsync(":bea!~chat@echohost JOIN #lobby");

        var flood = new StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            flood.Append($"JOIN #room{i}\r\nNICK ana{i}\r\n");
        }

        await ana.SendRawAsync(Encoding.ASCII.GetBytes(flood.ToString()));
        await ana.SendAsync("QUIT :flooded");
        var seen = await ana.ReadToEndAsync();
        // One notice per burst of drops, not an answer per line.
        Assert.Contains(seen, l => l.Contains("Flood control", StringComparison.Ordinal));
        Assert.True(seen.Count < 200, $"{seen.Count} lines in answer to 6000");
        Assert.Equal("ERROR :Closing link: ana", seen[^1][..("ERROR :Closing link: ana".Length)]);
        // The rooms stayed within the burst: the server kept going for the others.
        await bea.SendAsync("LIST");
        var list = await bea.ReadUntilAsync(l => l.Contains(" 323 ", StringComparison.Ordinal));
        Assert.InRange(list.Count(l => l.Contains(" 322 ", StringComparison.Ordinal)), 1, 25);
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task An_idle_client_is_pinged_and_kept_when_it_answers_and_dropped_when_it_does_not()
    {
        await using var host = await IrcHost.StartAsync(new() { ["EchoHost:Listeners:Irc:IdleTimeout"] = "00:00:02" });
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;
        var (bea, _) = await IrcHost.RegisterAsync(host, "bea");
        using var _2 = bea;

        Assert.Equal("PING :echohost", await ana.ExpectAsync("PING"));
        await ana.SendAsync("PONG :echohost");
        // bea never answers: dropped with a reason; ana, who answers every PING, stays and sees bea's QUIT.
        await bea.ExpectAsync("PING :echohost");
        var last = await bea.ReadToEndAsync();
        Assert.StartsWith("ERROR :Closing link: bea (Ping timeout: ", last[^1]);
        while (true)
        {
            var line = await ana.ReadLineAsync();
            if (line == "PING :echohost")
            {
                await ana.SendAsync("PONG :echohost");
            }
            else if (line.StartsWith(":bea!~chat@echohost QUIT", StringComparison.Ordinal))
            {
                Assert.StartsWith(":bea!~chat@echohost QUIT :Ping timeout: ", line);
                break;
            }
        }

        await ana.SendAsync("PRIVMSG #lobby :still here");
        await ana.SyncAsync();
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task A_client_that_never_registers_is_dropped_even_if_it_keeps_talking()
    {
        await using var host = await IrcHost.StartAsync(new() { ["EchoHost:Listeners:Irc:IdleTimeout"] = "00:00:02" });
        using var client = await IrcHost.OpenAsync(host);

        await client.SendAsync("NICK ana");
        // Answering every PING keeps an idle client, but not one that never finishes registering.
        while (true)
        {
            var line = await client.ReadLineAsync();
            if (line.StartsWith("ERROR ", StringComparison.Ordinal))
            {
                Assert.Equal("ERROR :Closing link: ana (registration timeout)", line);
                break;
            }

            await client.SendAsync("PONG :echohost");
        }

        Assert.Empty(await client.ReadToEndAsync());
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task An_irc_client_that_stops_reading_is_cut_as_a_slow_reader_and_the_room_goes_on()
    {
        await using var host = await IrcHost.StartAsync(new()
        {
            // Inside the flood allowance: this test is about the slow reader, not flood control.
            ["EchoHost:Chat:FloodBurst"] = "100000",
            ["EchoHost:Chat:FloodLinesPerSecond"] = "100000",
            // Room for the reading line user, briefly behind on this 2-core machine; a reader that stops still overflows.
            ["EchoHost:Chat:MaxQueuedBytes"] = "1048576",
        });
        var endPoint = host.EndPoint("Irc");
        // Registers, then never reads, with a small receive window so it stops taking data early.
        using var slow = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await slow.ConnectAsync(endPoint, TestTimeouts.Token());
        await slow.SendAllAsync("NICK slow\r\nUSER slow 0 * :slow\r\n"u8.ToArray());
        using var talker = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        using var listener = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await talker.ReadUntilAsync(l => l == $"*** {listener.Nick} joined lobby");

        var text = new string('m', 1500);
        var cut = listener.ReadUntilAsync(l => l == "*** slow left lobby (too slow to read)");
        for (var i = 0; i < 20_000 && !cut.IsCompleted; i++)
        {
            await talker.SendAsync($"{i}:{text}");
        }

        await cut;
        var disconnected = await host.Logs.WaitForAsync(e => e.Message.Contains("slow disconnected as a slow reader"));
        Assert.InRange((long)disconnected.State["QueuedBytes"]!, 1, 1048576);
        Assert.True(await slow.WaitForServerCloseAsync());
        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task A_full_chat_refuses_an_irc_client_with_error()
    {
        await using var host = await IrcHost.StartAsync(new() { ["EchoHost:Chat:MaxUsers"] = "1" });
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;

        using var late = await IrcHost.OpenAsync(host);
        await late.SendAsync("NICK bea");
        await late.SendAsync("USER bea 0 * :bea");
        var end = await late.ReadToEndAsync();
        Assert.StartsWith("ERROR :Server full (1 users)", end[0]);
        Assert.Equal("ERROR :Closing link: bea (server full)", end[^1]);
        AssertNoErrorsLogged(host);
    }

    /// <summary>
    /// One channel at a time: a JOIN of a whole list is one move, to its last channel, however long the list (each
    /// move is a round trip to the backplane and a part and a join in two rooms).
    /// </summary>
    [Fact]
    public async Task A_join_of_a_list_of_channels_moves_once_to_the_last()
    {
        await using var host = await IrcHost.StartAsync();
        var (ana, _) = await IrcHost.RegisterAsync(host, "ana");
        using var _1 = ana;

        await ana.SendAsync("JOIN " + string.Join(',', Enumerable.Range(0, 40).Select(i => $"#r{i}")));
        var seen = await ana.SyncAsync();

        Assert.Equal([":ana!~chat@echohost JOIN #r39"], seen.Where(l => l.Contains(" JOIN ", StringComparison.Ordinal)));
        Assert.Single(seen, l => l.Contains(" PART #lobby", StringComparison.Ordinal));
        AssertNoErrorsLogged(host);
    }
}
