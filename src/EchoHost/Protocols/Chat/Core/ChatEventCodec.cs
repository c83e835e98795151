namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The stable text form of the events that cross instances (and stay in the shared history): a mark, the kind's name,
/// then its fields, each after a separator. Control characters never occur in chat text (the line decoder makes them
/// harmless) nor in names, so the mark and separators cannot be forged, and a line written by an older version (the
/// line protocol's rendering) decodes as a <see cref="ChatEventKind.Verbatim"/> event. Each client kind renders a
/// decoded event its own way. Names and field order never change: add a kind, never alter one.
/// </summary>
internal static class ChatEventCodec
{
    private const char Mark = '\u0001';
    private const char Separator = '\u001F';

    /// <summary>What encoding adds to an event's text at most: the mark, the longest kind name, separators, a nick and a room.</summary>
    public const int MaxOverheadBytes = 1 + 6 + (3 * 1) + (2 * ChatNames.MaxLength);

    private static readonly (ChatEventKind Kind, string Name)[] Names =
    [
        (ChatEventKind.Message, "msg"),
        (ChatEventKind.Action, "act"),
        (ChatEventKind.Joined, "joined"),
        (ChatEventKind.Left, "left"),
        (ChatEventKind.NickChanged, "nick"),
        (ChatEventKind.PrivateFrom, "pm"),
        (ChatEventKind.TopicChanged, "topic"),
    ];

    public static string Encode(ChatEvent e) => e.Kind switch
    {
        ChatEventKind.Verbatim => e.Text,
        ChatEventKind.Message or ChatEventKind.Action or ChatEventKind.Left or ChatEventKind.TopicChanged => Join(e.Kind, e.Room, e.Nick, e.Text),
        ChatEventKind.Joined => Join(e.Kind, e.Room, e.Nick),
        ChatEventKind.NickChanged => Join(e.Kind, e.Room, e.Nick, e.Other),
        ChatEventKind.PrivateFrom => Join(e.Kind, e.Nick, e.Text),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "This event does not cross instances."),
    };

    /// <summary>The event <paramref name="text"/> encodes; text of an older version, or of a kind unknown here, verbatim.</summary>
    public static ChatEvent Decode(string text)
    {
        if (text.Length == 0 || text[0] != Mark)
        {
            return ChatEvent.Verbatim(text);
        }

        var fields = text[1..].Split(Separator);
        var kind = Array.FindIndex(Names, n => n.Name == fields[0]);
        return (kind < 0 ? (ChatEventKind?)null : Names[kind].Kind, fields.Length) switch
        {
            (ChatEventKind.Message, 4) => ChatEvent.Message(fields[1], fields[2], fields[3]),
            (ChatEventKind.Action, 4) => ChatEvent.Action(fields[1], fields[2], fields[3]),
            (ChatEventKind.Left, 4) => ChatEvent.Left(fields[1], fields[2], fields[3]),
            (ChatEventKind.Joined, 3) => ChatEvent.Joined(fields[1], fields[2]),
            (ChatEventKind.NickChanged, 4) => ChatEvent.NickChanged(fields[1], fields[2], fields[3]),
            (ChatEventKind.TopicChanged, 4) => ChatEvent.TopicChanged(fields[1], fields[2], fields[3]),
            (ChatEventKind.PrivateFrom, 3) => ChatEvent.PrivateFrom(fields[1], fields[2]),
            _ => ChatEvent.Verbatim(text),
        };
    }

    private static string Join(ChatEventKind kind, params ReadOnlySpan<string> fields) =>
        Mark + Array.Find(Names, n => n.Kind == kind).Name + Separator + string.Join(Separator, fields);
}
