using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// What one user can do to another through the chat core (issue 26): fill the other's queue with private messages
/// to get it cut, take its nick after the cut or pass for it with a look-alike, and get cut by an answer to its own
/// command.
/// </summary>
public sealed class ChatServerFairnessTests
{
    private readonly ManualTime _time = new();

    private ChatServer Server(Action<ChatOptions>? configure = null)
    {
        var options = new ChatOptions();
        configure?.Invoke(options);
        return new ChatServer(options, _time, NullLogger<ChatServer>.Instance);
    }

    private static ChatUser Join(ChatServer server, IChatOutbox outbox, string? nick = null, string? from = null)
    {
        var user = server.Connect("c", "Chat", outbox, new NoCounts(), from)!;
        if (nick is not null)
        {
            server.Handle(user, $"/nick {nick}");
        }

        return user;
    }

    [Fact]
    public void A_who_answer_comes_in_pages_that_each_fit_a_line_and_together_list_everyone()
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
            Join(server, new Sink(), nick);
        }

        var askerBox = new Lines();
        var asker = Join(server, askerBox, "asker");
        nicks.Add("asker");

        var listed = Pages(server, asker, askerBox, "/who", "lobby");

        Assert.Equal(nicks.Order(StringComparer.OrdinalIgnoreCase), listed);
        Assert.Equal("!!! There is no page 99: /who has 6.", Ask(server, asker, askerBox, "/who 99"));
        Assert.Equal("!!! Usage: /who [PAGE]", Ask(server, asker, askerBox, "/who next"));
    }

    [Fact]
    public void A_rooms_answer_comes_in_pages_too()
    {
        var server = Server(o =>
        {
            o.HistorySize = 0;
            o.MaxQueuedBytes = 8448;
        });
        var rooms = Enumerable.Range(0, 150).Select(i => $"room-{i:D3}-abcdefghijklmno").ToList();
        foreach (var room in rooms)
        {
            server.Handle(Join(server, new Sink()), $"/join {room}");
        }

        var askerBox = new Lines();
        var asker = Join(server, askerBox);

        var listed = Pages(server, asker, askerBox, "/rooms", "Rooms");

        Assert.Equal(rooms.Select(r => $"{r} (1)").Append("lobby (1)").Order(StringComparer.OrdinalIgnoreCase), listed);
    }

    /// <summary>Asks for every page of a listing; checks that each fits one line of the queue and returns the items.</summary>
    private static List<string> Pages(ChatServer server, ChatUser asker, Lines box, string command, string title)
    {
        var items = new List<string>();
        for (var page = 1; ; page++)
        {
            var line = Ask(server, asker, box, page == 1 ? command : $"{command} {page}");
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

    private static string Ask(ChatServer server, ChatUser user, Lines box, string line)
    {
        box.Texts.Clear();
        server.Handle(user, line);
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

    private sealed class NoCounts : IChatObserver
    {
        public void UserJoined()
        {
        }

        public void UserLeft()
        {
        }

        public void RoomOpened()
        {
        }

        public void RoomClosed()
        {
        }

        public void Delivered(int recipients)
        {
        }

        public void LineDropped(ChatLineDropReason reason)
        {
        }

        public void SlowReaderDisconnected()
        {
        }
    }
}
