using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using System.Threading.Channels;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

// Inside the namespace: here a bare "Campaign" would name this namespace, not the campaign's sizes and seed.

/// <summary>
/// The "Garbage" item of the reliability campaign: hundreds (thousands in a long run) of sessions of random and
/// structured garbage against echo and chat, and UDP datagrams of random sizes. Each session checks what its protocol
/// promises byte for byte; afterwards the log holds no error and no unexpected exception, every connection has its
/// "closed (…)" line with the reason the session's ending implies, and fresh clients are served. Every input comes from
/// <see cref="CampaignRun.Seed"/>, so a failure names the seed and session that reproduce it.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(GarbageCampaignTests))]
[CollectionDefinition(nameof(GarbageCampaignTests), DisableParallelization = true)]
public sealed partial class GarbageCampaignTests(ITestOutputHelper output)
{
    private const byte Iac = 255, Sb = 250, Se = 240;

    /// <summary>The documented default <c>MaxLineBytes</c> (docs/configuration.md), which the campaign's host keeps.</summary>
    private const int MaxLineBytes = 2048;

    private const string TooLong = "!!! Line too long (max 2048 bytes); discarded.";
    private const string InvalidUtf8 = "!!! Line is not valid UTF-8; discarded.";

    private const int Concurrency = 24;
    private const int SourceAddresses = 8;

    private static readonly byte[][] InvalidUtf8Fragments =
    [
        [0x80], [0xBF], [0x80, 0x80], // continuation bytes with no lead
        [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], // overlong
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], // UTF-16 surrogates
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFC], [0xFE], // beyond U+10FFFF, never-valid bytes
        [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], // truncated sequences
    ];

    private static readonly string[] ValidNonAscii =
        ["héllo wörld", "naïve ✓ ☃", "日本語のテキスト", "emoji 😀🎉", "tab\tinside", "bidi \u202Eevil\u202C", "zero\u200Bwidth", "ﬁ ligature Ω"];

    [Fact]
    public async Task Echo_and_chat_survive_hundreds_of_garbage_sessions_each_answered_exactly_or_closed_cleanly()
    {
        var sessions = CampaignRun.Size(400, 20_000);
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            // Flood control counts every line, empty and invalid ones included, at a rate that depends on time; these
            // sessions send thousands of lines and expect an exact answer to each, so it is out of the way here (its own
            // tests cover it). Every other chat limit keeps its documented default.
            ["EchoHost:Chat:FloodBurst"] = "1000000",
            ["EchoHost:Chat:FloodLinesPerSecond"] = "1000000",
        });

        var master = new Random(CampaignRun.Seed);
        var seeds = Enumerable.Range(0, sessions).Select(_ => master.Next()).ToArray();
        var started = new ConcurrentQueue<Connection>();
        var failures = new ConcurrentQueue<string>();
        var tally = new ConcurrentDictionary<string, int>();
        using var deadline = new CancellationTokenSource(CampaignRun.Long ? TimeSpan.FromMinutes(40) : TimeSpan.FromMinutes(5));
        var clock = Stopwatch.StartNew();

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < sessions && failures.Count < 20)
            {
                var session = Session.Plan(index, seeds[index], host);
                tally.AddOrUpdate(session.ToString(), 1, (_, n) => n + 1);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                timeout.CancelAfter(TestTimeouts.Long);
                try
                {
                    await session.RunAsync(started, timeout.Token);
                }
                catch (Exception ex)
                {
                    failures.Enqueue($"seed {CampaignRun.Seed}, session {index} (session seed {seeds[index]}, {session}), {session.Progress}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        })));
        output.WriteLine($"{sessions} sessions in {clock.Elapsed}, seed {CampaignRun.Seed}, {Concurrency} at once:");
        foreach (var (plan, count) in tally.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {count,5} {plan}");
        }

        Assert.True(failures.IsEmpty, string.Join(Environment.NewLine, failures));

        // Every connection ended, each with the reason its ending implies (matched by listener and client end point).
        var connections = started.ToArray();
        await WaitForClosedLinesAsync(host, connections.Length);
        AssertEachConnectionClosedAsExpected(host, connections);

        await AssertStillServesAsync(host);
        AssertNoProblemsLogged(host);
    }

    [Fact]
    public async Task Udp_datagrams_of_random_sizes_come_back_byte_exact_up_to_MaxDatagramBytes_and_are_dropped_as_too_large_beyond()
    {
        const int maxDatagramBytes = 1200;
        var datagrams = CampaignRun.Size(3_000, 100_000);
        await using var host = await TestHost.StartAsync(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            ["MaxDatagramBytes"] = maxDatagramBytes.ToString(CultureInfo.InvariantCulture),
            // Far above what one socket sending in lockstep can reach: nothing here is rate limited.
            ["PerSourceDatagramsPerSecond"] = "1000000",
        }));
        var server = host.UdpEndPoint();
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);
        var rng = new Random(CampaignRun.Seed);
        var boundary = new[] { 0, 1, maxDatagramBytes - 1, maxDatagramBytes, maxDatagramBytes + 1, maxDatagramBytes + 100 };

        var echoed = 0;
        var tooLarge = 0;
        for (var i = 0; i < datagrams; i++)
        {
            var size = rng.Next(10) == 0 ? boundary[rng.Next(boundary.Length)] : rng.Next(0, maxDatagramBytes + 101);
            var payload = new byte[size];
            rng.NextBytes(payload);
            await client.SendToAsync(payload, SocketFlags.None, server, TestTimeouts.Token());
            if (size > maxDatagramBytes)
            {
                tooLarge++;
                continue;
            }

            // One socket's datagrams are handled in order: had a dropped one been answered (or cut short), its reply
            // would arrive here instead of this one's.
            var (reply, from) = await client.ReceiveDatagramAsync();
            Assert.True(payload.AsSpan().SequenceEqual(reply),
                $"seed {CampaignRun.Seed}, datagram {i}: sent {size} bytes, got {reply.Length} bytes back that differ");
            Assert.Equal(server, from);
            echoed++;
        }

        // A last small one proves every reply that could come has come: nothing else may be queued behind it.
        var probe = "probe"u8.ToArray();
        Assert.Equal(probe, await client.EchoAsync(server, probe));
        Assert.Equal(0, client.DrainQueued());
        echoed++;

        var stats = await host.UdpStats("UdpEcho").SettledAsync();
        output.WriteLine($"{datagrams + 1} datagrams, seed {CampaignRun.Seed}: {echoed} echoed, {tooLarge} too large");
        Assert.Equal(datagrams + 1, stats.DatagramsReceived);
        Assert.Equal(echoed, stats.DatagramsSent);
        Assert.Equal(tooLarge, stats.Dropped(UdpDropReason.TooLarge));
        Assert.Equal(tooLarge, stats.DroppedTotal);
        Assert.Equal(0, stats.SocketErrors);
        Assert.True(tooLarge > 0, $"seed {CampaignRun.Seed}: no datagram was over MaxDatagramBytes");

        // Still serving TCP as well.
        using var echo = await SocketExtensions.ConnectAsync(host.EndPoint());
        await echo.AssertEchoesAsync();
        AssertNoProblemsLogged(host);
    }

    /// <summary>
    /// The campaign's rare echo failure made certain: the client sends without reading until the server, blocked writing
    /// to it, stops reading too; then the client resets. The server's pending send is what meets the reset, its flush
    /// reports the output ended, the echo handler returns as if done, and the access log blamed the server.
    /// </summary>
    [Fact]
    public async Task An_echo_client_that_resets_while_the_server_waits_to_write_to_it_is_logged_as_reset_not_as_closed_by_server()
    {
        await using var host = await TestHost.StartAsync();
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        var local = socket.LocalEndPoint!.ToString();
        var chunk = new byte[64 * 1024];
        new Random(CampaignRun.Seed).NextBytes(chunk);
        long accepted = 0;
        var writing = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 4096; i++)
                {
                    Interlocked.Add(ref accepted, await socket.SendAsync(chunk, SocketFlags.None));
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                // The reset below ends the blocked send.
            }
        });

        // Bounded polling until the writes stop being accepted: the count holds still for a while.
        var (last, stillFor) = (-1L, 0);
        for (var i = 0; i < 600 && stillFor < 8; i++)
        {
            await Task.Delay(250);
            var now = Interlocked.Read(ref accepted);
            stillFor = now == last ? stillFor + 1 : 0;
            last = now;
        }

        Assert.False(writing.IsCompleted, $"all {Interlocked.Read(ref accepted)} bytes were taken without the client reading");
        socket.Reset();
        await writing;

        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains(" closed (", StringComparison.Ordinal) && $"{e.State["RemoteEndPoint"]}" == local);
        foreach (var entry in host.Logs.Entries.Where(e => Equals(e.Scope.GetValueOrDefault("ConnectionId") ?? e.State.GetValueOrDefault("ConnectionId"), closed.State["ConnectionId"])))
        {
            output.WriteLine($"{entry.Level} {entry.Category}: {entry.Message}");
        }

        Assert.Contains((string)closed.State["Reason"]!, ResetReasons);
    }

    private static async Task WaitForClosedLinesAsync(TestHost host, int expected)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Long);
        while (ClosedLines(host).Count < expected && !timeout.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }

        Assert.Equal(expected, ClosedLines(host).Count);
    }

    private static List<CapturedLog> ClosedLines(TestHost host) =>
        host.Logs.Entries.Where(e => e.State.ContainsKey("Reason") && e.State.ContainsKey("BytesIn") && e.Message.Contains(" closed (", StringComparison.Ordinal)).ToList();

    private void AssertEachConnectionClosedAsExpected(TestHost host, Connection[] connections)
    {
        var logged = ClosedLines(host).ToLookup(e => $"{e.State["Listener"]} {e.State["RemoteEndPoint"]}", e => (string)e.State["Reason"]!);
        var mismatches = new List<string>();
        var resets = new Dictionary<string, int>();
        // A client port can serve a later session again, so match, per listener and end point, reasons to sessions.
        foreach (var group in connections.GroupBy(c => $"{c.Listener} {c.EndPoint}"))
        {
            var open = group.OrderBy(c => c.ExpectedReasons.Length).ToList();
            var reasons = logged[group.Key].ToList();
            var unmatched = new List<string>();
            foreach (var reason in reasons)
            {
                if (open.FirstOrDefault(c => c.ExpectedReasons.Contains(reason)) is { } connection)
                {
                    open.Remove(connection);
                    if (connection.ExpectedReasons == ResetReasons)
                    {
                        var key = $"{connection.Listener} session reset by its client, logged as {reason}";
                        resets[key] = resets.GetValueOrDefault(key) + 1;
                    }
                }
                else
                {
                    unmatched.Add(reason);
                }
            }

            if (open.Count > 0 || unmatched.Count > 0)
            {
                mismatches.Add($"{group.Key}: expected closed ({string.Join("; ", group.Select(c => string.Join(" or ", c.ExpectedReasons)))}), "
                    + $"logged ({string.Join("; ", reasons)}) [{string.Join("; ", group.Select(c => c.Session))}]");
            }
        }

        foreach (var (kind, count) in resets.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {count,5} {kind}");
        }

        Assert.True(mismatches.Count == 0, $"seed {CampaignRun.Seed}:{Environment.NewLine}{string.Join(Environment.NewLine, mismatches.Take(20))}");
    }

    /// <summary>A new echo client gets its bytes back; a new chat user is alone in the lobby, which is the only room left.</summary>
    private static async Task AssertStillServesAsync(TestHost host)
    {
        using var echo = await SocketExtensions.ConnectAsync(host.EndPoint("Echo"));
        await echo.AssertEchoesAsync("still here\n");

        using var chat = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Empty(await chat.SyncAsync());
        Assert.Equal($"*** lobby (1): {chat.Nick}", chat.LastLine);
        await chat.SendAsync("/rooms");
        Assert.Equal("*** Rooms (1): lobby (1)", await chat.ReadLineAsync());
        await chat.SendAsync("%end%");
        Assert.Equal([$"*** Goodbye, {chat.Nick}!", "%end%"], await chat.ReadToEndAsync());
    }

    /// <summary>
    /// No error, and no exception at any level but one: a client resetting or vanishing is a network event, which the
    /// connection pipeline reports at Debug without an exception. The one exception is Kestrel's own socket transport,
    /// which on rare runs (one CI run so far) logs a Debug "communication error" with an ObjectDisposedException when
    /// a peer's reset races its own close of the socket; it is Kestrel's to report, at the level it chose, and nothing
    /// of EchoHost's. Warnings are shown.
    /// </summary>
    private void AssertNoProblemsLogged(TestHost host)
    {
        var errors = host.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Level} {e.Category}: {e.Message}").ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));

        static bool KestrelSocketRace(CapturedLog e) => e.Level == LogLevel.Debug && e.Exception is ObjectDisposedException
            && e.Category == "Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets";
        var withException = host.Logs.Entries.Where(e => e.Exception is not null && !KestrelSocketRace(e)).Take(20)
            .Select(e => $"{e.Level} {e.Category}: {e.Message} — {e.Exception!.GetType().Name}: {e.Exception.Message}").ToList();
        Assert.True(withException.Count == 0, string.Join(Environment.NewLine, withException));

        var warnings = host.Logs.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        output.WriteLine($"{warnings.Count} warnings logged{(warnings.Count == 0 ? "" : $", e.g.: {warnings[0].Category}: {warnings[0].Message}")}");
    }

    /// <summary>One TCP connection a session opened, and the reason its closing log line must give.</summary>
    private sealed record Connection(string Listener, string EndPoint, string[] ExpectedReasons, string Session);

    /// <summary>
    /// A reset is reported to whichever socket call comes first: when the server is sending at that moment, its send
    /// gets the reset and its next read sees a plain end of input. Either is a clean end; nothing else is.
    /// </summary>
    private static readonly string[] ResetReasons = ["reset by client", "closed by client"];

    private enum Protocol
    {
        Echo,
        Chat,
    }

    /// <summary>How a session ends.</summary>
    private enum Ending
    {
        /// <summary>Echo: everything read back, then the client closes. Chat: <c>%end%</c>, the goodbye, the server closes.</summary>
        Close,
        /// <summary>The client shuts down its sending side (FIN) and reads to the end.</summary>
        HalfClose,
        /// <summary>The client stops in the middle of its payload and resets the connection (linger 0, close).</summary>
        Reset,
    }

    private enum GarbageKind
    {
        /// <summary>Random bytes, random length (0 included); chat sessions stay in the lobby.</summary>
        Random,
        /// <summary>Runs of NUL (telnet padding) around and inside a command.</summary>
        NulFlood,
        /// <summary>A run of IAC bytes: pairs are literal 0xFF, so a line of them is not UTF-8, or too long.</summary>
        IacRun,
        /// <summary><c>IAC SB</c> and up to 256 KiB that never says <c>IAC SE</c>: everything after it is negotiation.</summary>
        IacSbWithoutSe,
        /// <summary><c>IAC</c> followed by each of the 256 byte values, each time before a <c>/nick</c> command.</summary>
        IacThenEveryByte,
        /// <summary><c>/</c> followed by megabytes with no line end.</summary>
        SlashMegabytes,
        /// <summary>Lines of invalid UTF-8 (stray continuations, overlongs, surrogates, truncations) among valid ones.</summary>
        InvalidUtf8,
        /// <summary>Thousands of lines that are only a line end, mostly a bare CR.</summary>
        OnlyCarriageReturns,
        /// <summary>A line with no end followed by a half-close: the last line still counts.</summary>
        HalfLine,
    }

    /// <summary>
    /// A payload and, for chat in a room of the session's own, exactly the lines the server must send back for it (the
    /// rules of docs/protocols.md applied by hand). <see cref="Unstick"/> brings the telnet decoder back to plain data before the
    /// session's next command.
    /// </summary>
    private sealed record Garbage(byte[] Payload, IReadOnlyList<string> Expected, byte[] Unstick, string? Nick = null);

    /// <summary>One session: its plan comes from its own seed, drawn in order from the campaign's seed.</summary>
    private sealed class Session
    {
        private const int HalfLineQuit = 1;

        private readonly int _index;
        private readonly Random _rng;
        private readonly TestHost _host;
        private readonly IPAddress _from;

        /// <summary>Which line a <see cref="GarbageKind.HalfLine"/> session leaves unfinished; known before it connects.</summary>
        private readonly int _halfLine;

        private string _phase = "connecting";
        private ServerLines? _lines;

        private Session(int index, int seed, TestHost host)
        {
            _index = index;
            _rng = new Random(seed);
            _host = host;
            _from = IPAddress.Parse($"127.0.0.{1 + (index % SourceAddresses)}");
            Protocol = _rng.Next(2) == 0 ? Protocol.Echo : Protocol.Chat;
            var roll = _rng.Next(100);
            Kind = roll < 30 ? GarbageKind.Random : (GarbageKind)(1 + (roll % (Enum.GetValues<GarbageKind>().Length - 1)));
            roll = _rng.Next(100);
            Ending = roll < 45 ? Ending.Close : roll < 80 ? Ending.HalfClose : Ending.Reset;
            if (Kind == GarbageKind.HalfLine && Ending == Ending.Close)
            {
                Ending = Ending.HalfClose;
            }

            _halfLine = _rng.Next(6);
        }

        public Protocol Protocol { get; }

        /// <summary>Where the session is, and the last lines a chat session got: what a failure message needs.</summary>
        public string Progress => $"while {_phase}" + (_lines is null ? "" : $", last lines from the server {Show(_lines.Recent)}");

        public GarbageKind Kind { get; }

        public Ending Ending { get; }

        private string Room => $"g{_index}";

        public static Session Plan(int index, int seed, TestHost host) => new(index, seed, host);

        public override string ToString() => $"{Protocol} {Kind} {Ending}";

        public Task RunAsync(ConcurrentQueue<Connection> started, CancellationToken token) =>
            Protocol == Protocol.Echo ? RunEchoAsync(started, token) : RunChatAsync(started, token);

        private async Task<Socket> ConnectAsync(string listener, string[] expectedReasons, ConcurrentQueue<Connection> started)
        {
            var socket = await SocketExtensions.ConnectAsync(_host.EndPoint(listener), _from);
            started.Enqueue(new Connection(listener, socket.LocalEndPoint!.ToString()!, expectedReasons, $"session {_index}: {this}"));
            return socket;
        }

        private async Task RunEchoAsync(ConcurrentQueue<Connection> started, CancellationToken token)
        {
            var payload = MakeGarbage(guestNick: "").Payload;
            using var socket = await ConnectAsync("Echo", Ending == Ending.Reset ? ResetReasons : ["closed by client"], started);
            switch (Ending)
            {
                case Ending.Reset:
                {
                    // Reads whatever comes meanwhile, so the reset lands mid-write rather than on a full window.
                    var cut = _rng.Next(payload.Length + 1);
                    _phase = $"sending {cut} of {payload.Length} bytes before a reset";
                    var draining = socket.DrainAsync(token);
                    await socket.SendAllAsync(payload.AsMemory(0, cut), token);
                    socket.Reset();
                    await draining;
                    return;
                }
                case Ending.HalfClose:
                {
                    _phase = $"sending {payload.Length} bytes, then half-closing and reading to the end";
                    var receiving = socket.ReceiveToEndAsync(token);
                    await socket.SendAllAsync(payload, token);
                    socket.Shutdown(SocketShutdown.Send);
                    var echoed = await receiving;
                    AssertSameBytes(payload, echoed, "echoed up to the server's close");
                    return;
                }
                default:
                {
                    _phase = $"sending {payload.Length} bytes and reading them back";
                    var receiving = socket.ReceiveExactlyAsync(payload.Length, token);
                    await socket.SendAllAsync(payload, token);
                    var echoed = await receiving;
                    AssertSameBytes(payload, echoed, "echoed");
                    socket.Close();
                    return;
                }
            }
        }

        private async Task RunChatAsync(ConcurrentQueue<Connection> started, CancellationToken token)
        {
            // %end% is the server's close, also when the client half-closed right after it.
            using var socket = await ConnectAsync("Chat", Ending switch
            {
                Ending.Reset => ResetReasons,
                Ending.Close => ["closed by server"],
                _ when Kind == GarbageKind.HalfLine && _halfLine == HalfLineQuit => ["closed by server"],
                _ => ["closed by client"],
            }, started);
            var lines = _lines = new ServerLines(socket, token);
            _phase = "reading the greeting";
            var nick = await ReadGreetingAsync(lines);
            var inLobby = Kind == GarbageKind.Random;
            if (!inLobby)
            {
                // A room of its own: nothing anyone else says reaches it, so every line that comes is an answer to it.
                _phase = $"joining {Room}";
                await socket.SendAllAsync(Encoding.ASCII.GetBytes($"/join {Room}\n"), token);
                var before = await lines.ReadUntilAsync($"*** You are now in {Room} (1 here)");
                Check(before.All(IsLobbyNoise), $"before joining its room, lines other than the lobby's traffic: {Show(before)}");
            }

            var garbage = MakeGarbage(nick);
            if (Ending == Ending.Reset)
            {
                var cut = _rng.Next(garbage.Payload.Length + 1);
                _phase = $"sending {cut} of {garbage.Payload.Length} bytes before a reset";
                await socket.SendAllAsync(garbage.Payload.AsMemory(0, cut), token);
                socket.Reset();
                return;
            }

            _phase = $"sending {garbage.Payload.Length} bytes of garbage";
            await socket.SendAllAsync(garbage.Payload, token);
            if (Kind == GarbageKind.HalfLine)
            {
                _phase = "half-closed mid-line, reading to the end";
                socket.Shutdown(SocketShutdown.Send);
                var last = await lines.ReadToEndAsync();
                CheckLines([.. garbage.Expected, "%end%"], last, "after a half-close mid-line, up to the server's close");
                return;
            }

            List<string> answered;
            string nickNow = garbage.Nick ?? nick;
            if (inLobby)
            {
                _phase = "waiting for the answer to /who after the garbage";
                await socket.SendAllAsync((byte[])[.. garbage.Unstick, .. "/who\n"u8], token);
                answered = await lines.ReadUntilAsync(l => l.StartsWith("*** lobby (", StringComparison.Ordinal));
                var own = answered.Where(l => !IsLobbyNoise(l)).ToList();
                Check(own.All(l => l.StartsWith("!!! ", StringComparison.Ordinal)), $"random garbage got answers other than notices: {Show(own)}");
            }
            else
            {
                _phase = $"waiting for the answer to /join {Room} after the garbage";
                await socket.SendAllAsync((byte[])[.. garbage.Unstick, .. Encoding.ASCII.GetBytes($"/join {Room}\n")], token);
                answered = await lines.ReadUntilAsync($"!!! You are already in {Room}.");
                CheckLines(garbage.Expected, answered, "in answer to the garbage");
            }

            if (Ending == Ending.Close)
            {
                _phase = "quitting with %end%";
                await socket.SendAllAsync("%end%\n"u8.ToArray(), token);
                var last = (await lines.ReadToEndAsync()).Where(l => !inLobby || !IsLobbyNoise(l)).ToList();
                CheckLines([$"*** Goodbye, {nickNow}!", "%end%"], last, "after %end%, up to the server's close");
            }
            else
            {
                _phase = "half-closed, reading to the end";
                socket.Shutdown(SocketShutdown.Send);
                var last = (await lines.ReadToEndAsync()).Where(l => !inLobby || !IsLobbyNoise(l)).ToList();
                CheckLines(["%end%"], last, "after a half-close, up to the server's close");
            }
        }

        /// <summary>The welcome, the lobby's history if any (it may hold earlier sessions' garbage, made harmless), the join.</summary>
        private static async Task<string> ReadGreetingAsync(ServerLines lines)
        {
            var welcome = await lines.NextAsync() ?? throw new EndOfStreamException("closed before the welcome");
            var match = WelcomeLine().Match(welcome);
            Check(match.Success, $"first line is not the welcome: {welcome}");
            var between = await lines.ReadUntilAsync(l => l.StartsWith("*** You are now in lobby (", StringComparison.Ordinal));
            Check(between.Count == 0 || (between[0] == "*** Recent messages in lobby:" && between.Count <= 21 && between.Skip(1).All(l => l.StartsWith('['))),
                $"between the welcome and the join: {Show(between)}");
            return match.Groups[1].Value;
        }

        private Garbage MakeGarbage(string guestNick)
        {
            var rng = _rng;
            var room = Room;
            switch (Kind)
            {
                case GarbageKind.Random:
                {
                    var length = rng.Next(8) == 0 ? 0 : (int)Math.Pow(2, rng.NextDouble() * 16);
                    var bytes = new byte[length];
                    rng.NextBytes(bytes);
                    // From any decoder state to plain data with no partial line left. Twice IAC SE: inside SB right
                    // after an IAC, the first IAC only pairs with it; otherwise the first ends the SB, completes a
                    // command or option, or is data, and the second is a no-op command. LF then ends the line.
                    return new Garbage(bytes, [], [Iac, Se, Iac, Se, (byte)'\n']);
                }
                case GarbageKind.NulFlood:
                {
                    var bytes = new List<byte>();
                    foreach (var c in "/who\n")
                    {
                        bytes.AddRange(new byte[rng.Next(0, 16 * 1024)]);
                        bytes.Add((byte)c);
                    }

                    return new Garbage([.. bytes], [$"*** {room} (1): {guestNick}"], []);
                }
                case GarbageKind.IacRun:
                {
                    // The first LF after an odd run is the command byte of its last IAC, so two LFs end the line either way.
                    var run = rng.Next(0, 6 * MaxLineBytes);
                    var literal = run / 2;
                    var bytes = Enumerable.Repeat(Iac, run).Concat("\n\n"u8.ToArray()).ToArray();
                    return new Garbage(bytes, literal == 0 ? [] : literal > MaxLineBytes ? [TooLong] : [InvalidUtf8], []);
                }
                case GarbageKind.IacSbWithoutSe:
                {
                    var body = new byte[rng.Next(0, 256 * 1024)];
                    rng.NextBytes(body);
                    // Inside a subnegotiation IAC pairs with the next byte; none of those pairs may be IAC SE.
                    for (var i = 0; i < body.Length; i++)
                    {
                        if (body[i] == Iac)
                        {
                            if (i == body.Length - 1)
                            {
                                body[i] = (byte)'x';
                            }
                            else if (body[++i] == Se)
                            {
                                body[i] = (byte)'x';
                            }
                        }
                    }

                    // The command after it is negotiation too: no answer. IAC SE, sent next, ends it.
                    return new Garbage([Iac, Sb, .. body, .. "/rooms\n%end%\n"u8], [], [Iac, Se]);
                }
                case GarbageKind.IacThenEveryByte:
                {
                    var bytes = new List<byte>();
                    var expected = new List<string>();
                    string? nick = null;
                    foreach (var b in Enumerable.Range(0, 256).OrderBy(_ => rng.Next()))
                    {
                        bytes.Add(Iac);
                        bytes.Add((byte)b);
                        switch (b)
                        {
                            case >= 251 and <= 254: // WILL, WONT, DO, DONT: any byte is their option
                                bytes.Add((byte)rng.Next(256));
                                break;
                            case Sb:
                                bytes.AddRange(Enumerable.Range(0, rng.Next(0, 16)).Select(_ => (byte)rng.Next(0, 255)));
                                bytes.Add(Iac);
                                bytes.Add(Se);
                                break;
                        }

                        var candidate = $"k{_index}-{b}";
                        bytes.AddRange(Encoding.ASCII.GetBytes($"/nick {candidate}\n"));
                        if (b == Iac)
                        {
                            expected.Add(InvalidUtf8); // IAC IAC is a literal 0xFF at the start of the line
                        }
                        else
                        {
                            expected.Add($"*** You are now known as {candidate}");
                            nick = candidate;
                        }
                    }

                    return new Garbage([.. bytes], expected, [], nick);
                }
                case GarbageKind.SlashMegabytes:
                {
                    var body = new byte[(1 + rng.Next(CampaignRun.Size(1, 4))) * 1024 * 1024 + rng.Next(1024)];
                    rng.NextBytes(body);
                    for (var i = 0; i < body.Length; i++)
                    {
                        if (body[i] is (byte)'\r' or (byte)'\n' or 0 or Iac)
                        {
                            body[i] = (byte)'/';
                        }
                    }

                    return new Garbage([(byte)'/', .. body, (byte)'\n'], [TooLong], []);
                }
                case GarbageKind.InvalidUtf8:
                {
                    var bytes = new List<byte>();
                    var expected = new List<string>();
                    string[] ends = ["\n", "\r\n", "\r\0", "\r"];
                    for (var line = rng.Next(1, 40); line > 0; line--)
                    {
                        bytes.AddRange(RandomLetters(rng, rng.Next(0, 40)));
                        if (rng.Next(3) == 0)
                        {
                            bytes.AddRange(Encoding.UTF8.GetBytes(ValidNonAscii[rng.Next(ValidNonAscii.Length)]));
                        }
                        else
                        {
                            bytes.AddRange(InvalidUtf8Fragments[rng.Next(InvalidUtf8Fragments.Length)]);
                            expected.Add(InvalidUtf8);
                        }

                        bytes.AddRange(RandomLetters(rng, rng.Next(0, 40)));
                        bytes.AddRange(Encoding.ASCII.GetBytes(ends[rng.Next(ends.Length)]));
                    }

                    return new Garbage([.. bytes], expected, []);
                }
                case GarbageKind.OnlyCarriageReturns:
                {
                    var bytes = new List<byte>();
                    string[] others = ["\r\n", "\r\0", "\n", "\r\r"];
                    for (var line = rng.Next(1, 20_000); line > 0; line--)
                    {
                        bytes.AddRange(rng.Next(4) == 0 ? Encoding.ASCII.GetBytes(others[rng.Next(others.Length)]) : [(byte)'\r']);
                    }

                    return new Garbage([.. bytes], [], []);
                }
                case GarbageKind.HalfLine:
                    return _halfLine switch
                    {
                        0 => new Garbage(Encoding.ASCII.GetBytes($"/join {room}"), [$"!!! You are already in {room}."], []),
                        HalfLineQuit => new Garbage("%end%"u8.ToArray(), [$"*** Goodbye, {guestNick}!"], [], guestNick),
                        2 => new Garbage([(byte)'/', .. Enumerable.Repeat((byte)'a', MaxLineBytes + rng.Next(1, 100_000))], [TooLong], []),
                        3 => new Garbage([.. RandomLetters(rng, rng.Next(1, 100))], [], []),
                        4 => new Garbage([.. RandomLetters(rng, rng.Next(0, 10)), 0xE2, 0x82], [InvalidUtf8], []),
                        _ => new Garbage([Iac, Sb, .. RandomLetters(rng, rng.Next(0, 1000)), (byte)'\n'], [], []),
                    };
                default:
                    throw new InvalidOperationException(Kind.ToString());
            }
        }

        private static IEnumerable<byte> RandomLetters(Random rng, int count) =>
            Enumerable.Range(0, count).Select(_ => (byte)(rng.Next(4) == 0 ? ' ' : 'a' + rng.Next(26))).ToArray();

        private static bool IsLobbyNoise(string line) => LobbyNoise().IsMatch(line);

        private static void CheckLines(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string when) =>
            Check(expected.SequenceEqual(actual), $"{when}: expected {Show(expected)}, got {Show(actual)}");

        private static void AssertSameBytes(byte[] sent, byte[] received, string what)
        {
            if (!sent.AsSpan().SequenceEqual(received))
            {
                var firstDifference = sent.AsSpan().CommonPrefixLength(received);
                throw new InvalidDataException($"{what}: sent {sent.Length} bytes, got {received.Length} back, first difference at {firstDifference}");
            }
        }

        private static void Check(bool condition, string message)
        {
            if (!condition)
            {
                throw new InvalidDataException(message);
            }
        }

        private static string Show(IEnumerable<string> lines) =>
            "[" + string.Join(" | ", lines.Take(8).Select(l => l.Length > 120 ? l[..120] + "…" : l)) + (lines.Count() > 8 ? $" | … {lines.Count()} in all" : "") + "]";
    }

    /// <summary>
    /// What a chat server sends, read raw so nothing is smoothed over: every line must end in CRLF and be valid UTF-8
    /// with no control character but tab and no invisible format character — garbage from anyone, made harmless.
    /// </summary>
    private sealed class ServerLines
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly CancellationToken _token;
        private readonly ConcurrentQueue<string> _recent = new();

        public ServerLines(Socket socket, CancellationToken token)
        {
            _token = token;
            _ = PumpAsync(socket);
        }

        private async Task PumpAsync(Socket socket)
        {
            var buffer = new byte[64 * 1024];
            var line = new List<byte>();
            try
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _token);
                    if (read == 0)
                    {
                        if (line.Count > 0)
                        {
                            throw new InvalidDataException($"the server closed after a line with no CRLF: {Escape(line)}");
                        }

                        _lines.Writer.TryComplete();
                        return;
                    }

                    foreach (var b in buffer.AsSpan(0, read))
                    {
                        if (b != '\n')
                        {
                            line.Add(b);
                            continue;
                        }

                        if (line.Count == 0 || line[^1] != '\r')
                        {
                            throw new InvalidDataException($"a line ends in a bare LF: {Escape(line)}");
                        }

                        line.RemoveAt(line.Count - 1);
                        var text = Decode(line);
                        _recent.Enqueue(text);
                        while (_recent.Count > 6 && _recent.TryDequeue(out _))
                        {
                        }

                        _lines.Writer.TryWrite(text);
                        line.Clear();
                    }
                }
            }
            catch (Exception ex)
            {
                _lines.Writer.TryComplete(ex);
            }
        }

        private static string Decode(List<byte> bytes)
        {
            var span = bytes.ToArray();
            if (!Utf8.IsValid(span))
            {
                throw new InvalidDataException($"a line is not valid UTF-8: {Escape(bytes)}");
            }

            var text = Encoding.UTF8.GetString(span);
            if (text.EnumerateRunes().Any(r => r.Value != '\t' && (Rune.IsControl(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.Format)))
            {
                throw new InvalidDataException($"a line carries a control or format character: {Escape(bytes)}");
            }

            return text;
        }

        private static string Escape(List<byte> bytes) =>
            string.Concat(bytes.Take(120).Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:x2}"));

        /// <summary>The last few lines received, read or not.</summary>
        public IEnumerable<string> Recent => _recent.ToArray();

        /// <summary>The next line, or null when the server closed cleanly; throws if the connection failed.</summary>
        public async Task<string?> NextAsync()
        {
            if (await _lines.Reader.WaitToReadAsync(_token))
            {
                return await _lines.Reader.ReadAsync(_token);
            }

            await _lines.Reader.Completion;
            return null;
        }

        public Task<List<string>> ReadUntilAsync(string line) => ReadUntilAsync(l => l == line);

        /// <summary>The lines before the first that matches; fails if the server closes first.</summary>
        public async Task<List<string>> ReadUntilAsync(Func<string, bool> match)
        {
            var before = new List<string>();
            while (await NextAsync() is { } line)
            {
                if (match(line))
                {
                    return before;
                }

                before.Add(line);
            }

            throw new EndOfStreamException($"the server closed before the expected line; it sent {Show(before)}");
        }

        /// <summary>Every line up to the server's clean close.</summary>
        public async Task<List<string>> ReadToEndAsync()
        {
            var lines = new List<string>();
            while (await NextAsync() is { } line)
            {
                lines.Add(line);
            }

            return lines;
        }

        private static string Show(List<string> lines) => "[" + string.Join(" | ", lines.Take(8)) + "]";
    }

    [GeneratedRegex(@"^\*\*\* Welcome to EchoHost chat, (guest-\d+)! /help lists commands, %end% leaves\.$")]
    private static partial Regex WelcomeLine();

    /// <summary>What others in the lobby cause: their messages and actions, their joins, leaves and nick changes.</summary>
    [GeneratedRegex(@"^(<[^>\s]+> .*|\* [^\s]+ .*|\*\*\* [^\s]+ joined lobby|\*\*\* [^\s]+ left lobby \(.*\)|\*\*\* [^\s]+ is now known as [^\s]+)$")]
    private static partial Regex LobbyNoise();
}
