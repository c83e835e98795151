using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using SharedRoom = EchoHost.Protocols.Chat.Core.SharedRoom;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// The chat core over its bus seam, with a scripted shared bus: what it tells other instances, how their answers
/// and events come in, and how it falls back when they cannot be reached. No database (ChatScaleOutTests has one).
/// </summary>
public sealed class ChatServerBackplaneTests
{
    private readonly ScriptedBus _backplane = new();
    private readonly ManualTime _time = new();
    private readonly ChatServer _server;
    private readonly NoChatCounts _counts = new();

    public ChatServerBackplaneTests() => _server = TestChat.Server(new ChatOptions(), _time, _backplane);

    private async Task<(ChatUser User, List<string> Lines)> Join(string nick)
    {
        var outbox = new LinesOutbox();
        var user = (await _server.ConnectAsync(outbox, _counts))!;
        await _server.HandleAsync(user, $"/nick {nick}");
        outbox.Lines.Clear();
        return (user, outbox.Lines);
    }

    [Fact]
    public async Task What_happens_here_is_told_to_the_backplane_in_order()
    {
        var (ana, _) = await Join("ana");
        await _server.HandleAsync(ana, "hola");
        await _server.HandleAsync(ana, "/me waves");
        await _server.HandleAsync(ana, "/join games");
        _server.Disconnect(ana, "quit");

        Assert.Equal(
        [
            "claim guest for lobby",
            "entered guest-1 lobby: *** guest-1 joined lobby",
            "rename guest-1 to ana in lobby: *** guest-1 is now known as ana",
            "said lobby: <ana> hola",
            "said lobby: * ana waves",
            "room games",
            // A move is one change: the membership and both notices (the "left" line first).
            "entered ana games from lobby: *** ana left lobby (joined games) / *** ana joined games",
            "released ana games: *** ana left games (quit)",
        ], _backplane.Calls.Where(c => !c.StartsWith("room lobby", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_nick_chosen_before_joining_is_claimed_on_every_instance_or_gives_way_to_a_guest_nick()
    {
        var outbox = new LinesOutbox();
        var ana = (await _server.ConnectAsync(new ChatSession(outbox, TestChat.Renderer(_server), _counts, TestChat.NoChatLog.Instance), nick: "ana"))!;
        _backplane.TakenElsewhere.Add("bob");
        var notBob = (await _server.ConnectAsync(new ChatSession(new LinesOutbox(), TestChat.Renderer(_server), _counts, TestChat.NoChatLog.Instance), nick: "bob"))!;
        _backplane.Reachable = false;
        var cy = (await _server.ConnectAsync(new ChatSession(new LinesOutbox(), TestChat.Renderer(_server), _counts, TestChat.NoChatLog.Instance), nick: "cy"))!;

        Assert.Equal(("ana", "guest-1", "cy"), (ana.Nick, notBob.Nick, cy.Nick));
        Assert.Equal("*** Welcome to EchoHost chat, ana! /help lists commands, %end% leaves.", outbox.Lines[0]);
        Assert.Equal(
        [
            "claim ana for lobby",
            "entered ana lobby: *** ana joined lobby",
            "claim bob for lobby",
            "claim guest for lobby",
            "entered guest-1 lobby: *** guest-1 joined lobby",
            "claim cy for lobby",
            "entered cy lobby: *** cy joined lobby",
        ], _backplane.Calls.Where(c => !c.StartsWith("room lobby", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_cut_users_nick_stays_claimed_on_every_instance_until_its_hold_ends()
    {
        var (ana, _) = await Join("ana");
        var (_, bob) = await Join("bob");
        _backplane.Calls.Clear();

        _server.Disconnect(ana, "too slow to read", holdNick: true);

        // The room here hears it at once; the shared store keeps the nick (and other instances the member) meanwhile.
        Assert.Equal(["*** ana left lobby (too slow to read)"], bob);
        Assert.DoesNotContain(_backplane.Calls, c => c.StartsWith("released ana", StringComparison.Ordinal));
        Assert.Equal("lobby", _backplane.Registered["ana"]);

        _time.Advance(new ChatOptions().SlowReaderNickHold);
        var (eve, _) = await Join("ana");

        Assert.Equal("ana", eve.Nick);
        Assert.Equal(
        [
            "claim guest for lobby",
            "entered guest-3 lobby: *** guest-3 joined lobby",
            "released ana lobby: *** ana left lobby (too slow to read)",
            "rename guest-3 to ana in lobby: *** guest-3 is now known as ana",
        ], _backplane.Calls.Where(c => !c.StartsWith("room lobby", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Lines_from_other_instances_go_through_the_local_fan_out_and_into_the_history()
    {
        var (_, ana) = await Join("ana");
        var (_, bob) = await Join("bob");
        ana.Clear();

        _server.Deliver(new ChatDelivery.ToRoom("LOBBY", ChatEvent.Message("lobby", "zed", "hi from afar"), Remember: true));
        _server.Deliver(new ChatDelivery.ToRoom("lobby", ChatEvent.Joined("lobby", "carol"), Remember: false));
        _server.Deliver(new ChatDelivery.ToRoom("nowhere", ChatEvent.Verbatim("<zed> nobody here"), Remember: true));
        _server.Deliver(new ChatDelivery.ToUser("BOB", ChatEvent.PrivateFrom("zed", "psst")));

        Assert.Equal(["<zed> hi from afar", "*** carol joined lobby"], ana);
        Assert.Equal(["<zed> hi from afar", "*** carol joined lobby", "[msg from zed] psst"], bob);

        // The database away, a newcomer gets this instance's history: the remote message, not the notice.
        _backplane.Reachable = false;
        var outbox = new LinesOutbox();
        await _server.ConnectAsync(outbox, _counts);
        Assert.Contains(outbox.Lines, l => l.EndsWith("] <zed> hi from afar", StringComparison.Ordinal));
        Assert.DoesNotContain(outbox.Lines, l => l.Contains("carol", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_nick_taken_on_another_instance_is_refused_and_without_the_database_this_instance_decides()
    {
        var (ana, lines) = await Join("ana");
        _backplane.TakenElsewhere.Add("zed");

        await _server.HandleAsync(ana, "/nick zed");
        Assert.Equal(["!!! Cannot use nick 'zed': it is taken."], lines);
        Assert.Equal("ana", ana.Nick);

        lines.Clear();
        _backplane.Reachable = false;
        await _server.HandleAsync(ana, "/nick zed");
        Assert.Equal(["*** You are now known as zed"], lines);
    }

    [Fact]
    public async Task Who_rooms_and_private_messages_reach_the_users_of_other_instances()
    {
        var (ana, lines) = await Join("ana");
        await Join("bob");
        lines.Clear();
        _backplane.Elsewhere.AddRange(["ana", "bob", "carol"]);

        await _server.HandleAsync(ana, "/who");
        await _server.HandleAsync(ana, "/rooms");
        await _server.HandleAsync(ana, "/msg CAROL psst");
        await _server.HandleAsync(ana, "/msg dave psst");
        Assert.Equal(
        [
            "*** lobby (3): ana, bob, carol",
            "*** Rooms (2): games (1), lobby (3)",
            "[msg to carol] psst",
            "!!! No user named 'dave'.",
        ], lines);
        Assert.Contains("private CAROL: [msg from ana] psst", _backplane.Calls);

        // Unreachable: this instance's view, honestly.
        lines.Clear();
        _backplane.Reachable = false;
        await _server.HandleAsync(ana, "/who");
        await _server.HandleAsync(ana, "/rooms");
        await _server.HandleAsync(ana, "/msg carol psst");
        Assert.Equal(["*** lobby (2): ana, bob", "*** Rooms (1): lobby (2)", "!!! No user named 'carol'."], lines);
    }

    [Fact]
    public async Task A_nick_lost_during_an_outage_renames_the_user_and_tells_the_room()
    {
        var (ana, anaLines) = await Join("ana");
        var (_, bobLines) = await Join("zed");
        anaLines.Clear();

        Assert.Equal("lobby", _backplane.Registered["zed"]);
        _backplane.Calls.Clear();
        _server.Deliver(new ChatDelivery.NickLost("ZED", "guest-77", "lobby"));
        _server.Deliver(new ChatDelivery.NickLost("nobody", "guest-78", "lobby"));

        // The guest nick claimed for a user who is gone is given back (the bus told the other instances of the rename).
        Assert.Equal(["released guest-78 lobby: "], _backplane.Calls);

        Assert.Equal(["!!! Your nick zed was taken on another server while the servers could not reach each other; you are now known as guest-77."], bobLines);
        Assert.Equal(["*** zed is now known as guest-77"], anaLines);
        Assert.Equal("ana", ana.Nick);
    }

    /// <summary>Answers at once, as configured, and records every call in a readable form (events as the line protocol renders them).</summary>
    private sealed class ScriptedBus : IChatBus
    {
        private readonly ChatLineRenderer _lines = new(new ChatOptions());
        private readonly System.Threading.Channels.Channel<ChatDelivery> _deliveries = System.Threading.Channels.Channel.CreateUnbounded<ChatDelivery>();
        private int _guests;

        public List<string> Calls { get; } = [];

        /// <summary>The users this instance has registered in the shared store, and their rooms.</summary>
        public Dictionary<string, string> Registered { get; } = new(StringComparer.OrdinalIgnoreCase);

        public bool Reachable { get; set; } = true;

        public HashSet<string> TakenElsewhere { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Nicks the database lists in lobby (this instance's included); "games" has one user elsewhere.</summary>
        public List<string> Elsewhere { get; } = [];

        public System.Threading.Channels.ChannelReader<ChatDelivery> Deliveries => _deliveries.Reader;

        public ValueTask<string?> ClaimGuestNickAsync(string room)
        {
            Calls.Add($"claim guest for {room}");
            return ValueTask.FromResult(Reachable ? $"guest-{++_guests}" : null);
        }

        public ValueTask<NickClaim> ClaimNickAsync(string nick, string room)
        {
            Calls.Add($"claim {nick} for {room}");
            var claim = !Reachable ? NickClaim.Unavailable : TakenElsewhere.Contains(nick) ? NickClaim.Taken : NickClaim.Claimed;
            if (claim == NickClaim.Claimed)
            {
                Registered[nick] = room;
            }

            return ValueTask.FromResult(claim);
        }

        public ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, ChatEvent notice)
        {
            Calls.Add($"rename {oldNick} to {newNick} in {room}: {_lines.Text(notice)}");
            var claim = !Reachable ? NickClaim.Unavailable : TakenElsewhere.Contains(newNick) ? NickClaim.Taken : NickClaim.Claimed;
            if (claim == NickClaim.Claimed)
            {
                Registered.Remove(oldNick);
                Registered[newNick] = room;
            }

            return ValueTask.FromResult(claim);
        }

        public LineRelay Said(string room, ChatEvent message, DateTimeOffset at, string sender)
        {
            Calls.Add($"said {room}: {_lines.Text(message)}");
            return LineRelay.Queued;
        }

        public void Entered(string nick, string room, ChatEvent notice, (string Room, ChatEvent Notice)? left = null)
        {
            Registered[nick] = room;
            Calls.Add(left is { } from
                ? $"entered {nick} {room} from {from.Room}: {_lines.Text(from.Notice)} / {_lines.Text(notice)}"
                : $"entered {nick} {room}: {_lines.Text(notice)}");
        }

        public void Left(string nick, string room, ChatEvent? notice)
        {
            Registered.Remove(nick);
            Calls.Add($"released {nick} {room}: {(notice is null ? "" : _lines.Text(notice))}");
        }

        public ValueTask<Shared<string?>> SendPrivateAsync(string nick, ChatEvent message)
        {
            Calls.Add($"private {nick}: {_lines.Text(message)}");
            var found = Elsewhere.FirstOrDefault(n => n.Equals(nick, StringComparison.OrdinalIgnoreCase));
            return ValueTask.FromResult(Reachable ? Shared<string?>.Of(found) : Shared<string?>.Unavailable);
        }

        public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) =>
            ValueTask.FromResult(Reachable ? Shared<IReadOnlyList<string>>.Of(Elsewhere) : Shared<IReadOnlyList<string>>.Unavailable);

        public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() =>
            ValueTask.FromResult(Reachable
                ? Shared<IReadOnlyList<(string Name, int Members)>>.Of([("lobby", Elsewhere.Count), ("games", 1)])
                : Shared<IReadOnlyList<(string Name, int Members)>>.Unavailable);

        public ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count)
        {
            Calls.Add($"room {room}");
            return ValueTask.FromResult(Reachable ? Shared<SharedRoom>.Of(new SharedRoom(null, [])) : Shared<SharedRoom>.Unavailable);
        }
    }
}
