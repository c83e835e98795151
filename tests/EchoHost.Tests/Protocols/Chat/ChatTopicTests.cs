using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>Room topics in the chat core: set and shown by any user, heard by the room, from other instances too.</summary>
public sealed class ChatTopicTests
{
    private readonly ChatServer _server = TestChat.Server(new ChatOptions(), new ManualTime());

    [Fact]
    public async Task A_topic_is_set_heard_by_everyone_in_the_room_and_shown_on_request()
    {
        var (ana, anaLines) = await ConnectAsync("ana");
        var (bob, bobLines) = await ConnectAsync("bob");

        await _server.HandleAsync(bob, "/topic");
        Assert.Equal("*** lobby has no topic; /topic TEXT sets one.", bobLines.Lines[^1]);
        await _server.HandleAsync(ana, "/topic Be kind");
        Assert.Equal("*** ana set the topic of lobby: Be kind", anaLines.Lines[^1]);
        Assert.Equal("*** ana set the topic of lobby: Be kind", bobLines.Lines[^1]);
        await _server.HandleAsync(bob, "/topic");
        Assert.Equal("*** Topic of lobby: Be kind (set by ana)", bobLines.Lines[^1]);
        Assert.Equal("Be kind", Assert.Single(await _server.RoomsAsync()).Topic?.Text);
    }

    [Fact]
    public async Task A_topic_from_another_instance_becomes_the_rooms_topic()
    {
        var (_, lines) = await ConnectAsync("ana");

        _server.Deliver(new ChatDelivery.ToRoom("lobby", ChatEvent.TopicChanged("lobby", "zed", "From afar"), Remember: true));

        Assert.Equal("*** zed set the topic of lobby: From afar", lines.Lines[^1]);
        var topic = Assert.Single(await _server.RoomsAsync()).Topic;
        Assert.Equal(("From afar", "zed"), (topic?.Text, topic?.By));
    }

    [Fact]
    public async Task Entering_a_room_comes_before_its_history_and_carries_its_topic()
    {
        var (ana, _) = await ConnectAsync("ana");
        await _server.HandleAsync(ana, "/join games");
        await _server.HandleAsync(ana, "/topic Games only");
        await _server.HandleAsync(ana, "gg");
        var events = new EventsOutbox();
        var bob = (await _server.ConnectAsync(new ChatSession(events, events, new NoChatCounts(), TestChat.NoChatLog.Instance)))!;

        events.Events.Clear();
        await _server.JoinAsync(bob, "games");

        Assert.Equal(ChatEventKind.Entering, events.Events[0].Kind);
        Assert.Equal(("games", "lobby", "Games only"), (events.Events[0].Room, events.Events[0].Other, events.Events[0].RoomTopic?.Text));
        Assert.Equal(ChatEventKind.HistoryHeader, events.Events[1].Kind);
        Assert.Equal(ChatEventKind.YouJoined, events.Events[^1].Kind);
    }

    private async Task<(ChatUser User, LinesOutbox Lines)> ConnectAsync(string nick)
    {
        var lines = new LinesOutbox();
        var user = (await _server.ConnectAsync(lines))!;
        await _server.ChangeNickAsync(user, nick);
        return (user, lines);
    }

    /// <summary>Keeps the events a user is sent, as data: a renderer and an outbox in one.</summary>
    private sealed class EventsOutbox : IChatRenderer, IChatOutbox
    {
        private ChatEvent? _last;

        public List<ChatEvent> Events { get; } = [];

        public byte[] Render(ChatEvent chatEvent)
        {
            _last = chatEvent;
            return [1];
        }

        public bool TryEnqueue(byte[] line)
        {
            Events.Add(_last!);
            return true;
        }

        public bool TryEnqueueWithin(byte[] line, long limit) => TryEnqueue(line);
    }

    /// <summary>A topic is cut at one length whoever sets it: IRC clients are told TOPICLEN and read 512-byte lines.</summary>
    [Fact]
    public async Task A_line_users_long_topic_is_cut_as_an_irc_users_is()
    {
        var (ana, _) = await ConnectAsync("ana");

        await _server.HandleAsync(ana, "/topic " + new string('t', 1000));

        Assert.Equal(new string('t', ChatRoom.MaxTopicLength), Assert.Single(await _server.RoomsAsync()).Topic?.Text);
    }
}
