using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The line protocol's form of the chat's events (nc, telnet): one line of UTF-8 text per event, ending with CRLF, in
/// the wording of <see cref="ChatMessages"/>. One instance serves every line-protocol user, so a room's fan-out
/// renders an event once for all of them.
/// </summary>
internal sealed class ChatLineRenderer(int answerLineBytes) : IChatRenderer
{
    /// <summary>An answer to a user's own command is one line of at most this many bytes: it fits the user's queue.</summary>
    public ChatLineRenderer(ChatOptions options)
        : this(options.MaxLineBytes + ChatOptions.LineOverheadBytes)
    {
    }

    // Entering a room says nothing on this kind: "You are now in" comes after the history (YouJoined).
    public byte[] Render(ChatEvent chatEvent) => chatEvent.Kind == ChatEventKind.Entering ? [] : ChatMessages.Encode(Text(chatEvent));

    /// <summary>The event's line, without its line ending.</summary>
    public string Text(ChatEvent e) => e.Kind switch
    {
        ChatEventKind.Verbatim => e.Text,
        ChatEventKind.Message => ChatMessages.Message(e.Nick, e.Text),
        ChatEventKind.Action => ChatMessages.Action(e.Nick, e.Text),
        ChatEventKind.Joined => ChatMessages.Joined(e.Nick, e.Room),
        ChatEventKind.Left => ChatMessages.Left(e.Nick, e.Room, e.Text),
        ChatEventKind.NickChanged => ChatMessages.NickChanged(e.Nick, e.Other),
        ChatEventKind.PrivateFrom => ChatMessages.PrivateFrom(e.Nick, e.Text),
        ChatEventKind.TopicChanged => ChatMessages.TopicChanged(e.Nick, e.Room, e.Text),
        ChatEventKind.Topic => ChatMessages.Topic(e.Room, e.RoomTopic?.Text, e.RoomTopic?.By),
        ChatEventKind.Welcome => ChatMessages.Welcome(e.Nick),
        ChatEventKind.YouJoined => ChatMessages.YouJoined(e.Room, e.Number),
        ChatEventKind.YouAreNow => ChatMessages.YouAreNow(e.Nick),
        ChatEventKind.NickLost => ChatMessages.NickLostInOutage(e.Nick, e.Other),
        ChatEventKind.PrivateTo => ChatMessages.PrivateTo(e.Nick, e.Text),
        ChatEventKind.HistoryHeader => ChatMessages.HistoryHeader(e.Room),
        ChatEventKind.History => ChatMessages.HistoryEntry(e.At, Text(e.Inner!)),
        ChatEventKind.Who => Page(ChatMessages.Who(e.Room, e.Items.Select(i => i.Name), answerLineBytes), "/who", e.Number),
        ChatEventKind.Rooms => Page(ChatMessages.Rooms(e.Items, answerLineBytes), "/rooms", e.Number),
        ChatEventKind.Goodbye => ChatMessages.Goodbye(e.Nick),
        ChatEventKind.HelpHeader => ChatMessages.HelpHeader,
        ChatEventKind.HelpEntry => ChatMessages.HelpEntry(e.Text, e.Other),
        ChatEventKind.HelpFooter => ChatMessages.HelpFooter,
        ChatEventKind.NickRefused => ChatMessages.NickRefused(e.Nick, e.Text),
        ChatEventKind.RoomRefused => ChatMessages.RoomRefused(e.Room, e.Text),
        ChatEventKind.AlreadyInRoom => ChatMessages.AlreadyInRoom(e.Room),
        ChatEventKind.NoSuchNick => ChatMessages.NoSuchNick(e.Nick),
        ChatEventKind.NotKeepingUp => ChatMessages.NotKeepingUp(e.Nick),
        ChatEventKind.UnknownCommand => ChatMessages.UnknownCommand(e.Text),
        ChatEventKind.Usage => ChatMessages.Usage(e.Text),
        ChatEventKind.NotShared => ChatMessages.NotShared,
        ChatEventKind.ServerFull => ChatMessages.ServerFull(e.Number),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "No line for this event."),
    };

    private static string Page(IReadOnlyList<string> pages, string command, int page) =>
        page <= pages.Count ? pages[page - 1] : ChatMessages.NoSuchPage(command, page, pages.Count);
}
