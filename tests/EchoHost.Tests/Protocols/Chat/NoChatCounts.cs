using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>A chat observer for tests that do not look at counts.</summary>
internal sealed class NoChatCounts : IChatObserver
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
