using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// The chat core over its backplane seam, with a scripted backplane: what it tells other instances, how their answers
/// and events come in, and how it falls back when they cannot be reached. No database (ChatScaleOutTests has one).
/// </summary>
public sealed class ChatServerBackplaneTests
{
    private readonly ScriptedBackplane _backplane = new();
    private readonly ManualTime _time = new();
    private readonly ChatServer _server;
    private readonly NoChatCounts _counts = new();

    public ChatServerBackplaneTests() => _server = new ChatServer(new ChatOptions(), _time, NullLogger<ChatServer>.Instance, _backplane);

    private IChatBackplaneSink Sink => _backplane.Sink!;

    private (ChatUser User, List<string> Lines) Join(string nick)
    {
        var outbox = new LinesOutbox();
        var user = _server.Connect("c", "Chat", outbox, _counts)!;
        _server.Handle(user, $"/nick {nick}");
        outbox.Lines.Clear();
        return (user, outbox.Lines);
    }

    [Fact]
    public void What_happens_here_is_told_to_the_backplane_in_order()
    {
        var (ana, _) = Join("ana");
        _server.Handle(ana, "hola");
        _server.Handle(ana, "/me waves");
        _server.Handle(ana, "/join games");
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
    public void A_cut_users_nick_stays_claimed_on_every_instance_until_its_hold_ends()
    {
        var (ana, _) = Join("ana");
        var (_, bob) = Join("bob");
        _backplane.Calls.Clear();

        _server.Disconnect(ana, "too slow to read", holdNick: true);

        // The room here hears it at once; the shared store keeps the nick (and other instances the member) meanwhile.
        Assert.Equal(["*** ana left lobby (too slow to read)"], bob);
        Assert.DoesNotContain(_backplane.Calls, c => c.StartsWith("released ana", StringComparison.Ordinal));
        Assert.Contains(("ana", "lobby"), Sink.LocalUsers());

        _time.Advance(new ChatOptions().SlowReaderNickHold);
        var (eve, _) = Join("ana");

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
    public void Lines_from_other_instances_go_through_the_local_fan_out_and_into_the_history()
    {
        var (_, ana) = Join("ana");
        var (_, bob) = Join("bob");
        ana.Clear();

        Sink.DeliverToRoom("LOBBY", "<zed> hi from afar", remember: true);
        Sink.DeliverToRoom("lobby", "*** carol joined lobby", remember: false);
        Sink.DeliverToRoom("nowhere", "<zed> nobody here", remember: true);
        Sink.DeliverPrivate("BOB", "[msg from zed] psst");

        Assert.Equal(["<zed> hi from afar", "*** carol joined lobby"], ana);
        Assert.Equal(["<zed> hi from afar", "*** carol joined lobby", "[msg from zed] psst"], bob);

        // The database away, a newcomer gets this instance's history: the remote message, not the notice.
        _backplane.Reachable = false;
        var outbox = new LinesOutbox();
        _server.Connect("c", "Chat", outbox, _counts);
        Assert.Contains(outbox.Lines, l => l.EndsWith("] <zed> hi from afar", StringComparison.Ordinal));
        Assert.DoesNotContain(outbox.Lines, l => l.Contains("carol", StringComparison.Ordinal));
    }

    [Fact]
    public void A_nick_taken_on_another_instance_is_refused_and_without_the_database_this_instance_decides()
    {
        var (ana, lines) = Join("ana");
        _backplane.TakenElsewhere.Add("zed");

        _server.Handle(ana, "/nick zed");
        Assert.Equal(["!!! Cannot use nick 'zed': it is taken."], lines);
        Assert.Equal("ana", ana.Nick);

        lines.Clear();
        _backplane.Reachable = false;
        _server.Handle(ana, "/nick zed");
        Assert.Equal(["*** You are now known as zed"], lines);
    }

    [Fact]
    public void Who_rooms_and_private_messages_reach_the_users_of_other_instances()
    {
        var (ana, lines) = Join("ana");
        Join("bob");
        lines.Clear();
        _backplane.Elsewhere.AddRange(["ana", "bob", "carol"]);

        _server.Handle(ana, "/who");
        _server.Handle(ana, "/rooms");
        _server.Handle(ana, "/msg CAROL psst");
        _server.Handle(ana, "/msg dave psst");
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
        _server.Handle(ana, "/who");
        _server.Handle(ana, "/rooms");
        _server.Handle(ana, "/msg carol psst");
        Assert.Equal(["*** lobby (2): ana, bob", "*** Rooms (1): lobby (2)", "!!! No user named 'carol'."], lines);
    }

    [Fact]
    public void A_nick_lost_during_an_outage_renames_the_user_and_tells_the_room()
    {
        var (ana, anaLines) = Join("ana");
        var (_, bobLines) = Join("zed");
        anaLines.Clear();

        Assert.Contains(("zed", "lobby"), Sink.LocalUsers());
        Assert.True(Sink.ForceRename("ZED", "guest-77"));
        Assert.False(Sink.ForceRename("nobody", "guest-78"));

        Assert.Equal(["!!! Your nick zed was taken on another server while the servers could not reach each other; you are now known as guest-77."], bobLines);
        Assert.Equal(["*** zed is now known as guest-77"], anaLines);
        Assert.Equal("ana", ana.Nick);
    }

    /// <summary>Answers at once, as configured, and records every call in a readable form.</summary>
    private sealed class ScriptedBackplane : IChatBackplane
    {
        private int _guests;

        public IChatBackplaneSink? Sink { get; private set; }

        public List<string> Calls { get; } = [];

        public bool Reachable { get; set; } = true;

        public HashSet<string> TakenElsewhere { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Nicks the database lists in lobby (this instance's included); "games" has one user elsewhere.</summary>
        public List<string> Elsewhere { get; } = [];

        public void Attach(IChatBackplaneSink sink) => Sink = sink;

        public ValueTask<string?> ClaimGuestNickAsync(string room)
        {
            Calls.Add($"claim guest for {room}");
            return ValueTask.FromResult(Reachable ? $"guest-{++_guests}" : null);
        }

        public ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, string notice)
        {
            Calls.Add($"rename {oldNick} to {newNick} in {room}: {notice}");
            return ValueTask.FromResult(!Reachable ? NickClaim.Unavailable : TakenElsewhere.Contains(newNick) ? NickClaim.Taken : NickClaim.Claimed);
        }

        public LineRelay Said(string room, string line, DateTimeOffset at, string sender)
        {
            Calls.Add($"said {room}: {line}");
            return LineRelay.Queued;
        }

        public void Entered(string nick, string room, string notice, (string Room, string Notice)? left = null) =>
            Calls.Add(left is { } from ? $"entered {nick} {room} from {from.Room}: {from.Notice} / {notice}" : $"entered {nick} {room}: {notice}");

        public void Left(string nick, string room, string? notice) => Calls.Add($"released {nick} {room}: {notice}");

        public ValueTask<Shared<string?>> SendPrivateAsync(string nick, string line)
        {
            Calls.Add($"private {nick}: {line}");
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
