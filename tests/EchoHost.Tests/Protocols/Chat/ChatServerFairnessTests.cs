using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// What one user can do to another through the chat core (issue 26): fill the other's queue with private messages
/// to get it cut, take its nick after the cut or pass for it with a look-alike, and get cut by an answer to its own
/// command.
/// </summary>
public sealed class ChatServerFairnessTests
{
    private const string NotKeepingUp = "!!! bob is not keeping up; message not delivered.";

    private readonly ManualTime _time = new();

    private ChatServer Server(Action<ChatOptions>? configure = null)
    {
        var options = new ChatOptions();
        configure?.Invoke(options);
        return TestChat.Server(options, _time);
    }

    private static async Task<ChatUser> Join(ChatServer server, IChatOutbox outbox, string? nick = null, string? from = null)
    {
        var user = (await server.ConnectAsync(outbox, new NoChatCounts(), from))!;
        if (nick is not null)
        {
            await server.HandleAsync(user, $"/nick {nick}");
        }

        return user;
    }

    [Fact]
    public async Task Private_messages_beyond_the_recipients_bound_are_refused_to_their_senders_and_the_recipient_stays()
    {
        var server = Server(o =>
        {
            o.HistorySize = 0;
            o.MaxQueuedBytes = 16_384;
        });
        // Bob reads nothing at all: every line for him stays queued.
        var bobBox = new ChatOutbox(16_384);
        await Join(server, bobBox, "bob");
        var attackers = new List<(Lines Box, ChatUser User)>();
        for (var i = 0; i < 10; i++)
        {
            var box = new Lines();
            attackers.Add((box, await Join(server, box, $"eve{i}")));
        }

        // Each within any flood allowance (20 lines), together 10 times the bound.
        for (var round = 0; round < 20; round++)
        {
            foreach (var (_, user) in attackers)
            {
                await server.HandleAsync(user, $"/msg bob {new string('x', 200)}");
            }
        }

        Assert.False(bobBox.HasOverflowed);
        Assert.InRange(bobBox.QueuedBytes, 1, 16_384 / 4);
        Assert.All(attackers, a => Assert.Contains(NotKeepingUp, a.Box.Texts));
        // Bob is still here, and his nick still his.
        await server.HandleAsync(attackers[0].User, "/nick bob");
        Assert.Equal("!!! Cannot use nick 'bob': it is taken.", attackers[0].Box.Texts[^1]);
    }

    [Fact]
    public async Task Once_the_recipient_catches_up_private_messages_are_delivered_again()
    {
        var server = Server(o => o.MaxQueuedPrivateBytes = 8448);
        var bobBox = new Lines { Queued = 8448 };
        await Join(server, bobBox, "bob");
        var eveBox = new Lines();
        var eve = await Join(server, eveBox, "eve");

        await server.HandleAsync(eve, "/msg bob hello?");
        Assert.Equal(NotKeepingUp, eveBox.Texts[^1]);

        bobBox.Queued = 0;
        await server.HandleAsync(eve, "/msg bob hello!");
        Assert.Equal("[msg to bob] hello!", eveBox.Texts[^1]);
        Assert.Equal("[msg from eve] hello!", bobBox.Texts[^1]);
    }

    [Fact]
    public async Task A_cut_users_nick_is_held_from_others_and_its_own_address_may_take_it_back()
    {
        var server = Server();
        var alice = await Join(server, new Lines(), "alice", from: "198.51.100.7:40000");
        var eveBox = new Lines();
        var eve = await Join(server, eveBox, "eve", from: "203.0.113.9:50000");

        server.Disconnect(alice, "too slow to read", holdNick: true);

        await server.HandleAsync(eve, "/nick alice");
        Assert.Equal("!!! Cannot use nick 'alice': it is taken.", eveBox.Texts[^1]);
        await server.HandleAsync(eve, "/nick A1ice");
        Assert.Equal("!!! Cannot use nick 'A1ice': it is taken.", eveBox.Texts[^1]);
        // Nobody gets it as a guest nick either; the user who was cut, back from the same address, does.
        var backBox = new Lines();
        var back = await Join(server, backBox, from: "198.51.100.7:40001");
        await server.HandleAsync(back, "/nick alice");
        Assert.Equal("*** You are now known as alice", backBox.Texts[^1]);
    }

    [Fact]
    public async Task A_held_nick_is_free_for_anyone_once_the_hold_ends()
    {
        var server = Server(o => o.SlowReaderNickHold = TimeSpan.FromSeconds(30));
        var alice = await Join(server, new Lines(), "alice", from: "198.51.100.7:40000");
        var eveBox = new Lines();
        var eve = await Join(server, eveBox, "eve", from: "203.0.113.9:50000");
        server.Disconnect(alice, "too slow to read", holdNick: true);
        _time.Advance(TimeSpan.FromSeconds(29));
        await server.HandleAsync(eve, "/nick alice");
        Assert.Equal("!!! Cannot use nick 'alice': it is taken.", eveBox.Texts[^1]);

        _time.Advance(TimeSpan.FromSeconds(1));
        await server.HandleAsync(eve, "/nick alice");

        Assert.Equal("*** You are now known as alice", eveBox.Texts[^1]);
    }

    [Fact]
    public async Task A_user_who_leaves_on_its_own_frees_its_nick_at_once()
    {
        var server = Server();
        var alice = await Join(server, new Lines(), "alice", from: "198.51.100.7:40000");
        var eveBox = new Lines();
        var eve = await Join(server, eveBox, "eve", from: "203.0.113.9:50000");

        server.Disconnect(alice, "quit");
        await server.HandleAsync(eve, "/nick alice");

        Assert.Equal("*** You are now known as alice", eveBox.Texts[^1]);
    }

    [Fact]
    public async Task A_who_answer_comes_in_pages_that_each_fit_a_line_and_together_list_everyone()
    {
        // The smallest queue the validator accepts with no history, and a room whose list is larger than it.
        var server = Server(o =>
        {
            o.HistorySize = 0;
            o.MaxQueuedBytes = 8448;
        });
        var nicks = Enumerable.Range(0, 400).Select(i => $"user-{i:D4}-abcdefghijklmn").ToList();
        foreach (var nick in nicks)
        {
            await Join(server, new Sink(), nick);
        }

        var askerBox = new Lines();
        var asker = await Join(server, askerBox, "asker");
        nicks.Add("asker");

        var listed = await Pages(server, asker, askerBox, "/who", "lobby");

        Assert.Equal(nicks.Order(StringComparer.OrdinalIgnoreCase), listed);
        Assert.Equal("!!! There is no page 99: /who has 6.", await Ask(server, asker, askerBox, "/who 99"));
        Assert.Equal("!!! Usage: /who [PAGE]", await Ask(server, asker, askerBox, "/who next"));
    }

    [Fact]
    public async Task A_rooms_answer_comes_in_pages_too()
    {
        var server = Server(o =>
        {
            o.HistorySize = 0;
            o.MaxQueuedBytes = 8448;
        });
        var rooms = Enumerable.Range(0, 150).Select(i => $"room-{i:D3}-abcdefghijklmno").ToList();
        foreach (var room in rooms)
        {
            await server.HandleAsync(await Join(server, new Sink()), $"/join {room}");
        }

        var askerBox = new Lines();
        var asker = await Join(server, askerBox);

        var listed = await Pages(server, asker, askerBox, "/rooms", "Rooms");

        Assert.Equal(rooms.Select(r => $"{r} (1)").Append("lobby (1)").Order(StringComparer.OrdinalIgnoreCase), listed);
    }

    [Theory]
    [InlineData("alice", "aIice")] // capital I looks like l
    [InlineData("alice", "a1ice")] // digit one looks like l
    [InlineData("bob", "b0b")] // zero looks like O
    [InlineData("alice", "alice.")] // a dot at the end is easily missed
    [InlineData("alice", "_alice")]
    [InlineData("alice", "ALICE-")]
    [InlineData("mike", "rnike")] // rn looks like m
    [InlineData("lan", "Ian")]
    public async Task A_nick_that_looks_like_someone_elses_is_taken(string existing, string lookAlike)
    {
        var server = Server();
        await Join(server, new Lines(), existing);
        var eveBox = new Lines();
        var eve = await Join(server, eveBox);

        await server.HandleAsync(eve, $"/nick {lookAlike}");

        Assert.Equal($"!!! Cannot use nick '{lookAlike}': it is taken.", eveBox.Texts[^1]);
    }

    [Theory]
    [InlineData("alice", "alicia")]
    [InlineData("alice", "al.ice")]
    [InlineData("ian", "lan")] // lower-case i does not look like l
    [InlineData("bob", "bob2")]
    public async Task Nicks_that_only_resemble_each_other_are_both_allowed(string existing, string other)
    {
        var server = Server();
        await Join(server, new Lines(), existing);
        var eveBox = new Lines();
        var eve = await Join(server, eveBox);

        await server.HandleAsync(eve, $"/nick {other}");

        Assert.Equal($"*** You are now known as {other}", eveBox.Texts[^1]);
    }

    [Theory]
    [InlineData("r00t")]
    [InlineData("Adrnin")]
    [InlineData("n0body")]
    [InlineData("server.")]
    public void Look_alikes_of_reserved_nicks_are_reserved(string nick) => Assert.True(ChatNames.IsReservedNick(nick));

    [Theory]
    [InlineData("\u0440\u0430\u0443\u0440\u0430l", "paypal")] // Cyrillic er, a, u
    [InlineData("I1l|", "llll")]
    public void Skeletons_follow_unicode_tr39(string text, string like) =>
        Assert.Equal(ChatConfusables.Skeleton(like), ChatConfusables.Skeleton(text));

    /// <summary>Asks for every page of a listing; checks that each fits one line of the queue and returns the items.</summary>
    private static async Task<List<string>> Pages(ChatServer server, ChatUser asker, Lines box, string command, string title)
    {
        var items = new List<string>();
        for (var page = 1; ; page++)
        {
            var line = await Ask(server, asker, box, page == 1 ? command : $"{command} {page}");
            Assert.InRange(Encoding.UTF8.GetByteCount(line) + 2, 1, server.Options.MaxLineBytes + 64);
            Assert.StartsWith($"*** {title} (", line);
            var list = line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..];
            var more = list.IndexOf(" ... and ", StringComparison.Ordinal);
            items.AddRange((more < 0 ? list : list[..more]).Split(", "));
            if (more < 0)
            {
                return items;
            }

            Assert.EndsWith($"; {command} {page + 1} for the next page", list);
        }
    }

    private static async Task<string> Ask(ChatServer server, ChatUser user, Lines box, string line)
    {
        box.Texts.Clear();
        await server.HandleAsync(user, line);
        return Assert.Single(box.Texts);
    }

    /// <summary>Records what the user got; <see cref="Queued"/> pretends that many bytes wait unread.</summary>
    private sealed class Lines : IChatOutbox
    {
        public List<string> Texts { get; } = [];

        public long Queued { get; set; }

        public bool TryEnqueue(byte[] line)
        {
            Texts.Add(Encoding.UTF8.GetString(line).TrimEnd('\r', '\n'));
            return true;
        }

        public bool TryEnqueueWithin(byte[] line, long limit) => Queued + line.Length <= limit && TryEnqueue(line);
    }

    private sealed class Sink : IChatOutbox
    {
        public bool TryEnqueue(byte[] line) => true;

        public bool TryEnqueueWithin(byte[] line, long limit) => true;
    }
}
