namespace EchoHost.Protocols.Chat.Core;

/// <summary>Something another instance did, for the users here (see <see cref="IChatBus.Deliveries"/>).</summary>
internal abstract record ChatDelivery
{
    /// <summary>An event for everyone in <paramref name="Room"/> here; <paramref name="Remember"/> keeps it in the room's history.</summary>
    public sealed record ToRoom(string Room, ChatEvent Event, bool Remember) : ChatDelivery;

    /// <summary>A private message for <paramref name="Nick"/>, if that user is here.</summary>
    public sealed record ToUser(string Nick, ChatEvent Event) : ChatDelivery;

    /// <summary>
    /// A decision of the shared store after an outage: <paramref name="Nick"/> was taken on another instance
    /// meanwhile, and the user here becomes <paramref name="NewNick"/> (a guest nick the store claimed for it). The
    /// core applies it, or gives <paramref name="NewNick"/> back when that user is gone.
    /// </summary>
    public sealed record NickLost(string Nick, string NewNick, string Room) : ChatDelivery;
}
