namespace EchoHost.Protocols.Chat.Core;

/// <summary>What a <see cref="ChatEvent"/> says; each client kind renders each kind its own way.</summary>
internal enum ChatEventKind
{
    /// <summary>A line already rendered for the line protocol (<see cref="ChatEvent.Text"/>): history of an older version.</summary>
    Verbatim,

    // What is said and done in a room: other instances hear these too.
    Message,
    Action,
    Joined,
    Left,
    NickChanged,
    PrivateFrom,
    TopicChanged,

    // What the chat tells one user.
    Welcome,
    /// <summary>The user is entering a room, before its history: a client kind that shows rooms (IRC) opens it here.</summary>
    Entering,
    Topic,
    YouJoined,
    YouAreNow,
    NickLost,
    PrivateTo,
    HistoryHeader,
    History,
    Who,
    Rooms,
    Goodbye,
    HelpHeader,
    HelpEntry,
    HelpFooter,

    // Refusals and errors.
    NickRefused,
    RoomRefused,
    AlreadyInRoom,
    NoSuchNick,
    NotKeepingUp,
    UnknownCommand,
    Usage,
    NotShared,
    ServerFull,
}

/// <summary>
/// Something the chat tells its users, as data: who said what in which room, who joined, left or renamed, a notice,
/// an error. The core never renders: each client kind has an <see cref="IChatRenderer"/>. Which fields a kind uses is
/// in its factory below.
/// </summary>
internal sealed record ChatEvent(ChatEventKind Kind, string Room = "", string Nick = "", string Text = "", string Other = "", int Number = 0)
{
    /// <summary><see cref="ChatEventKind.History"/>: when the remembered event happened.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary><see cref="ChatEventKind.History"/>: the remembered event.</summary>
    public ChatEvent? Inner { get; init; }

    /// <summary><see cref="ChatEventKind.Entering"/> and <see cref="ChatEventKind.Topic"/>: the room's topic, if it has one.</summary>
    public ChatTopic? RoomTopic { get; init; }

    /// <summary><see cref="ChatEventKind.Who"/>: the nicks; <see cref="ChatEventKind.Rooms"/>: the rooms and their member counts.</summary>
    public IReadOnlyList<(string Name, int Members)> Items { get; init; } = [];

    public static ChatEvent Verbatim(string line) => new(ChatEventKind.Verbatim, Text: line);

    public static ChatEvent Message(string room, string nick, string text) => new(ChatEventKind.Message, room, nick, text);

    public static ChatEvent Action(string room, string nick, string action) => new(ChatEventKind.Action, room, nick, action);

    public static ChatEvent Joined(string room, string nick) => new(ChatEventKind.Joined, room, nick);

    public static ChatEvent Left(string room, string nick, string why) => new(ChatEventKind.Left, room, nick, why);

    public static ChatEvent NickChanged(string room, string oldNick, string newNick) => new(ChatEventKind.NickChanged, room, oldNick, Other: newNick);

    /// <summary>A private message from <paramref name="nick"/>; <paramref name="to"/> is the recipient as it is known where it is delivered.</summary>
    public static ChatEvent PrivateFrom(string nick, string text, string to = "") => new(ChatEventKind.PrivateFrom, Nick: nick, Text: text, Other: to);

    /// <summary>What the sender <paramref name="from"/> is told of its private message to <paramref name="nick"/>.</summary>
    public static ChatEvent PrivateTo(string nick, string text, string from = "") => new(ChatEventKind.PrivateTo, Nick: nick, Text: text, Other: from);

    /// <summary><paramref name="nick"/> set the room's topic to <paramref name="topic"/> (empty: cleared).</summary>
    public static ChatEvent TopicChanged(string room, string nick, string topic) => new(ChatEventKind.TopicChanged, room, nick, topic);

    /// <summary>The answer to a user who asked for the room's topic.</summary>
    public static ChatEvent Topic(string room, ChatTopic? topic) => new(ChatEventKind.Topic, room) { RoomTopic = topic };

    /// <summary><paramref name="nick"/> is entering <paramref name="room"/>, coming from <paramref name="from"/> (empty when just arrived).</summary>
    public static ChatEvent Entering(string room, string nick, string from, ChatTopic? topic) =>
        new(ChatEventKind.Entering, room, nick, Other: from) { RoomTopic = topic };

    public static ChatEvent Welcome(string nick) => new(ChatEventKind.Welcome, Nick: nick);

    public static ChatEvent YouJoined(string room, int members) => new(ChatEventKind.YouJoined, room, Number: members);

    public static ChatEvent YouAreNow(string nick) => new(ChatEventKind.YouAreNow, Nick: nick);

    public static ChatEvent NickLost(string nick, string newNick) => new(ChatEventKind.NickLost, Nick: nick, Other: newNick);

    public static ChatEvent HistoryHeader(string room) => new(ChatEventKind.HistoryHeader, room);

    public static ChatEvent History(DateTimeOffset at, ChatEvent remembered) => new(ChatEventKind.History) { At = at, Inner = remembered };

    /// <summary>Page <paramref name="page"/> of the room's nicks (a renderer pages as its form allows).</summary>
    public static ChatEvent Who(string room, IEnumerable<string> nicks, int page) =>
        new(ChatEventKind.Who, room, Number: page) { Items = nicks.Select(n => (n, 0)).ToList() };

    /// <summary>Page <paramref name="page"/> of the rooms and their member counts.</summary>
    public static ChatEvent Rooms(IEnumerable<(string Name, int Members)> rooms, int page) =>
        new(ChatEventKind.Rooms, Number: page) { Items = rooms.ToList() };

    public static ChatEvent Goodbye(string nick) => new(ChatEventKind.Goodbye, Nick: nick);

    public static readonly ChatEvent HelpHeader = new(ChatEventKind.HelpHeader);

    /// <summary>One command in <c>/help</c>: how it is written, and what it does.</summary>
    public static ChatEvent HelpEntry(string syntax, string help) => new(ChatEventKind.HelpEntry, Text: syntax, Other: help);

    public static readonly ChatEvent HelpFooter = new(ChatEventKind.HelpFooter);

    public static ChatEvent NickRefused(string nick, string why) => new(ChatEventKind.NickRefused, Nick: nick, Text: why);

    public static ChatEvent RoomRefused(string room, string why) => new(ChatEventKind.RoomRefused, room, Text: why);

    public static ChatEvent AlreadyInRoom(string room) => new(ChatEventKind.AlreadyInRoom, room);

    public static ChatEvent NoSuchNick(string nick) => new(ChatEventKind.NoSuchNick, Nick: nick);

    public static ChatEvent NotKeepingUp(string nick) => new(ChatEventKind.NotKeepingUp, Nick: nick);

    public static ChatEvent UnknownCommand(string command) => new(ChatEventKind.UnknownCommand, Text: command);

    public static ChatEvent Usage(string usage) => new(ChatEventKind.Usage, Text: usage);

    public static readonly ChatEvent NotShared = new(ChatEventKind.NotShared);

    public static ChatEvent ServerFull(int maxUsers) => new(ChatEventKind.ServerFull, Number: maxUsers);
}

/// <summary>A room's topic: its text, who set it and when.</summary>
internal sealed record ChatTopic(string Text, string By, DateTimeOffset At);
