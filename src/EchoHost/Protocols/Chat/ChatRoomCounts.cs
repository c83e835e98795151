using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Whose metrics count a room: rooms are shared by every chat listener, and the listener whose user opened a room
/// counts it until it closes, with the messages other instances deliver in it (so each listener's room gauge never
/// goes below zero). Called under the chat core's lock, as its rooms open and close.
/// </summary>
internal sealed class ChatRoomCounts : IChatRoomCounts
{
    private readonly Dictionary<string, IChatObserver> _countedBy = new(ChatNames.Comparer);

    public void Opened(string room, IChatObserver openedBy)
    {
        _countedBy[room] = openedBy;
        openedBy.RoomOpened();
    }

    public void Closed(string room)
    {
        if (_countedBy.Remove(room, out var countedBy))
        {
            countedBy.RoomClosed();
        }
    }

    public void Delivered(string room, int recipients) => _countedBy.GetValueOrDefault(room)?.Delivered(recipients);
}
