using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>The chat core on its own: options, a clock, an outbox and an observer per user; no socket, pipe or meter.</summary>
public sealed class ChatServerTests
{
    private readonly ManualTime _time = new();
    private readonly Counts _counts = new();

    private ChatServer Server(Action<ChatOptions>? configure = null)
    {
        var options = new ChatOptions();
        configure?.Invoke(options);
        return TestChat.Server(options, _time);
    }

    private async Task<(ChatUser User, LinesOutbox Outbox)> Join(ChatServer server, string? nick = null)
    {
        var outbox = new LinesOutbox();
        var user = (await server.ConnectAsync(outbox, _counts))!;
        if (nick is not null)
        {
            await server.HandleAsync(user, $"/nick {nick}");
        }

        outbox.Lines.Clear();
        return (user, outbox);
    }

    [Fact]
    public async Task A_new_user_is_welcomed_into_the_lobby_with_a_guest_nick()
    {
        var server = Server();
        var outbox = new LinesOutbox();

        var user = await server.ConnectAsync(outbox, _counts);

        Assert.NotNull(user);
        Assert.Equal("guest-1", user.Nick);
        Assert.Equal(ChatServer.Lobby, user.Room!.Name);
        Assert.Equal(["*** Welcome to EchoHost chat, guest-1! /help lists commands, %end% leaves.", "*** You are now in lobby (1 here)"], outbox.Lines);
        Assert.Equal((1, 1), (_counts.Users, _counts.Rooms));
    }

    [Fact]
    public async Task A_message_reaches_everyone_else_in_the_room_once_and_is_counted()
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");
        var (_, bobBox) = await Join(server, "bob");
        var (_, eveBox) = await Join(server, "eve");
        anaBox.Lines.Clear();
        bobBox.Lines.Clear();
        eveBox.Lines.Clear();

        Assert.Equal(ChatOutcome.Continue, await server.HandleAsync(ana, "hola a todos"));

        Assert.Empty(anaBox.Lines);
        Assert.Equal(["<ana> hola a todos"], bobBox.Lines);
        Assert.Equal(["<ana> hola a todos"], eveBox.Lines);
        Assert.Equal(2, _counts.Deliveries);
    }

    [Theory]
    [InlineData("//not a command", "<ana> /not a command")]
    [InlineData("%end% please", "<ana> %end% please")]
    [InlineData("/me waves", "* ana waves")]
    [InlineData("  spaced  ", "<ana>   spaced  ")]
    public async Task Lines_that_are_messages(string line, string delivered)
    {
        var server = Server();
        var (ana, _) = await Join(server, "ana");
        var (_, bobBox) = await Join(server, "bob");

        await server.HandleAsync(ana, line);

        Assert.Equal([delivered], bobBox.Lines);
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("")]
    public async Task Blank_lines_go_nowhere(string line)
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");
        var (_, bobBox) = await Join(server, "bob");
        anaBox.Lines.Clear();

        await server.HandleAsync(ana, line);

        Assert.Empty(anaBox.Lines);
        Assert.Empty(bobBox.Lines);
    }

    [Theory]
    [InlineData("/nick", "!!! Usage: /nick NAME")]
    [InlineData("/nick two words", "!!! Usage: /nick NAME")]
    [InlineData("/join", "!!! Usage: /join ROOM")]
    [InlineData("/msg bob", "!!! Usage: /msg NICK TEXT")]
    [InlineData("/msg bob   ", "!!! Usage: /msg NICK TEXT")]
    [InlineData("/me", "!!! Usage: /me ACTION")]
    [InlineData("/frobnicate now", "!!! Unknown command /frobnicate; /help lists commands.")]
    [InlineData("/FROB", "!!! Unknown command /frob; /help lists commands.")]
    [InlineData("/nick server", "!!! Cannot use nick 'server': that name is reserved.")]
    [InlineData("/nick ana!", "!!! Cannot use nick 'ana!': a nick may only contain letters, digits, '_', '-' and '.'.")]
    [InlineData("/msg nobody hi", "!!! No user named 'nobody'.")]
    [InlineData("/join lobby", "!!! You are already in lobby.")]
    public async Task Wrong_commands_get_one_line_back(string line, string answer)
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");

        Assert.Equal(ChatOutcome.Continue, await server.HandleAsync(ana, line));

        Assert.Equal([answer], anaBox.Lines);
    }

    [Theory]
    [InlineData("%end%")]
    [InlineData(" %end% ")]
    [InlineData("/quit")]
    [InlineData("/QUIT see you")]
    public async Task Quitting_says_goodbye_and_ends_the_session(string line)
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");

        Assert.True(ChatCommands.IsQuit(line));
        Assert.Equal(ChatOutcome.Quit, await server.HandleAsync(ana, line));
        Assert.Equal(["*** Goodbye, ana!"], anaBox.Lines);
    }

    [Fact]
    public async Task A_nick_is_unique_in_any_case_and_a_change_is_announced()
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");
        var (bob, bobBox) = await Join(server);

        await server.HandleAsync(bob, "/nick ANA");
        await server.HandleAsync(bob, "/nick bob");

        Assert.Equal(["!!! Cannot use nick 'ANA': it is taken.", "*** You are now known as bob"], bobBox.Lines);
        Assert.Equal("bob", bob.Nick);
        Assert.Contains("*** guest-2 is now known as bob", anaBox.Lines);
        Assert.Equal("ana", ana.Nick);
    }

    [Fact]
    public async Task Join_moves_to_a_new_room_which_closes_when_its_last_member_leaves()
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");
        var (_, bobBox) = await Join(server, "bob");
        anaBox.Lines.Clear();

        await server.HandleAsync(ana, "/join games");
        Assert.Equal(["*** You are now in games (1 here)"], anaBox.Lines);
        Assert.Equal(["*** ana left lobby (joined games)"], bobBox.Lines);
        Assert.Equal(2, _counts.Rooms);

        await server.HandleAsync(ana, "/join lobby");
        Assert.Equal(1, _counts.Rooms);
        anaBox.Lines.Clear();
        await server.HandleAsync(ana, "/rooms");
        Assert.Equal(["*** Rooms (1): lobby (2)"], anaBox.Lines);
    }

    [Fact]
    public async Task Who_lists_the_room_and_msg_reaches_one_user_anywhere()
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");
        var (bob, bobBox) = await Join(server, "bob");
        await server.HandleAsync(bob, "/join games");
        anaBox.Lines.Clear();
        bobBox.Lines.Clear();

        await server.HandleAsync(ana, "/who");
        await server.HandleAsync(ana, "/msg BOB psst  ");

        Assert.Equal(["*** lobby (1): ana", "[msg to bob] psst"], anaBox.Lines);
        Assert.Equal(["[msg from ana] psst"], bobBox.Lines);
    }

    [Fact]
    public async Task Joining_a_room_replays_its_history_with_times()
    {
        var server = Server(o => o.HistorySize = 2);
        var (ana, _) = await Join(server, "ana");
        foreach (var line in new[] { "one", "two", "three" })
        {
            await server.HandleAsync(ana, line);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var (_, bobBox) = await Join(server);
        var replay = new LinesOutbox();
        await server.ConnectAsync(replay, _counts);

        Assert.Equal("*** Recent messages in lobby:", replay.Lines[1]);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] <ana> two$", replay.Lines[2]);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] <ana> three$", replay.Lines[3]);
    }

    [Fact]
    public async Task A_full_server_refuses_with_a_notice_and_no_user()
    {
        var server = Server(o => o.MaxUsers = 1);
        await Join(server);
        var outbox = new LinesOutbox();

        Assert.Null(await server.ConnectAsync(outbox, _counts));
        Assert.Equal(["!!! Server full (1 users); try again later."], outbox.Lines);
        Assert.Equal(1, _counts.Users);
    }

    [Fact]
    public async Task Room_count_is_capped()
    {
        var server = Server(o => o.MaxRooms = 2);
        var (ana, anaBox) = await Join(server, "ana");
        var (bob, _) = await Join(server, "bob");
        await server.HandleAsync(bob, "/join one");
        anaBox.Lines.Clear();

        await server.HandleAsync(ana, "/join two");

        Assert.Equal(["!!! Cannot join 'two': there are already 2 rooms (MaxRooms)."], anaBox.Lines);
    }

    [Fact]
    public async Task Disconnect_tells_the_room_why_unless_the_server_is_shutting_down()
    {
        var server = Server();
        var (ana, _) = await Join(server, "ana");
        var (bob, _) = await Join(server, "bob");
        var (_, eveBox) = await Join(server, "eve");

        server.Disconnect(ana, "quit");
        server.Disconnect(bob, "server shutdown", announce: false);
        server.Disconnect(bob, "twice");

        Assert.Equal(["*** ana left lobby (quit)"], eveBox.Lines);
        Assert.Equal(1, _counts.Users);
    }

    [Fact]
    public async Task A_user_whose_outbox_refuses_is_not_counted_as_a_delivery()
    {
        var server = Server();
        var (ana, _) = await Join(server, "ana");
        var (_, bobBox) = await Join(server, "bob");
        bobBox.Refuse = true;

        await server.HandleAsync(ana, "anyone?");

        Assert.Equal(0, _counts.Deliveries);
    }

    [Fact]
    public async Task Help_is_generated_from_the_registry()
    {
        var server = Server();
        var (ana, anaBox) = await Join(server, "ana");

        await server.HandleAsync(ana, "/help");

        Assert.Equal(ChatCommands.Help.Select(TestChat.Renderer(server).Text), anaBox.Lines);
        Assert.Equal("*** Commands:", anaBox.Lines[0]);
        foreach (var command in ChatCommands.All)
        {
            Assert.Single(anaBox.Lines, l => l.StartsWith($"***   {command.Syntax} ", StringComparison.Ordinal) && l.EndsWith(command.Help, StringComparison.Ordinal));
        }

        Assert.Contains("***   /nick NAME       change your nick (1-24 letters, digits, _ - .)", anaBox.Lines);
        Assert.Contains("***   /quit or %end%   leave", anaBox.Lines);
    }

    [Fact]
    public async Task A_room_renders_an_event_once_per_client_kind_not_once_per_recipient()
    {
        var server = Server();
        var lines = new CountingRenderer(TestChat.Renderer(server));
        var other = new CountingRenderer(TestChat.Renderer(server));
        var boxes = new List<LinesOutbox>();
        var users = new List<ChatUser>();
        foreach (var renderer in new[] { lines, lines, other, lines, other })
        {
            var box = new LinesOutbox();
            boxes.Add(box);
            users.Add((await server.ConnectAsync(new ChatSession(box, renderer, _counts, TestChat.NoChatLog.Instance)))!);
        }

        var (rendered, otherRendered) = (lines.Rendered, other.Rendered);
        await server.HandleAsync(users[0], "hola");

        // Four recipients of two kinds: two renderings.
        Assert.Equal((rendered + 1, otherRendered + 1), (lines.Rendered, other.Rendered));
        Assert.All(boxes.Skip(1), box => Assert.Equal("<guest-1> hola", box.Lines[^1]));
    }

    [Theory]
    [InlineData("ana", null)]
    [InlineData("A.n-a_9", null)]
    [InlineData("abcdefghijklmnopqrstuvwx", null)]
    [InlineData("abcdefghijklmnopqrstuvwxy", "a nick has 1 to 24 characters")]
    [InlineData("", "a nick has 1 to 24 characters")]
    [InlineData("ana!", "a nick may only contain letters, digits, '_', '-' and '.'")]
    [InlineData("ñandú", "a nick may only contain letters, digits, '_', '-' and '.'")]
    public void Name_rules(string name, string? problem) => Assert.Equal(problem, ChatNames.Problem(name, "nick"));

    [Theory]
    [InlineData("server")]
    [InlineData("SERVER")]
    [InlineData("Admin")]
    [InlineData("echohost")]
    public void Reserved_nicks_are_reserved_in_any_case(string nick) => Assert.True(ChatNames.IsReservedNick(nick));

    private sealed class CountingRenderer(IChatRenderer inner) : IChatRenderer
    {
        public int Rendered { get; private set; }

        public byte[] Render(ChatEvent chatEvent)
        {
            Rendered++;
            return inner.Render(chatEvent);
        }
    }

    private sealed class Counts : IChatObserver
    {
        public int Users { get; private set; }

        public int Rooms { get; private set; }

        public int Deliveries { get; private set; }

        public void UserJoined() => Users++;

        public void UserLeft() => Users--;

        public void RoomOpened() => Rooms++;

        public void RoomClosed() => Rooms--;

        public void Delivered(int recipients) => Deliveries += recipients;

        public void LineDropped(ChatLineDropReason reason)
        {
        }

        public void SlowReaderDisconnected()
        {
        }
    }
}
