using System.Threading.Channels;

namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// Everything the chat core asks of "the other instances", in one interface with a local implementation
/// (<see cref="LocalChatBus"/>: answers at once, with what this instance knows) and a shared one (the PostgreSQL
/// backplane), the way SignalR's hubs call one HubLifetimeManager: the core never asks whether a backplane exists.
/// The core tells it what happened — after delivering locally — and asks it what the other instances know; what they
/// did comes back as <see cref="Deliveries"/>, which the core pulls. Nothing here may block: one-way calls only queue,
/// and every question has an answer meaning "nothing beyond this instance", on which the core uses its own state.
/// </summary>
internal interface IChatBus
{
    /// <summary>What other instances did, for the users here, in the order it happened; read by one loop.</summary>
    ChannelReader<ChatDelivery> Deliveries { get; }

    /// <summary>Claims a fresh guest nick, shared by all instances; null when this instance must draw its own.</summary>
    ValueTask<string?> ClaimGuestNickAsync(string room);

    /// <summary>
    /// Claims <paramref name="nick"/> for a user arriving in <paramref name="room"/> with a nick of its choosing (IRC's
    /// registration), shared by all instances.
    /// </summary>
    ValueTask<NickClaim> ClaimNickAsync(string nick, string room);

    /// <summary>Moves the user's claim from <paramref name="oldNick"/> to <paramref name="newNick"/>, and on success tells the room <paramref name="notice"/>.</summary>
    ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, ChatEvent notice);

    /// <summary>
    /// A message <paramref name="sender"/> said in a room: stored in the room's history and delivered on other
    /// instances, unless too many of that sender's messages are still waiting for them (see <see cref="LineRelay"/>).
    /// </summary>
    LineRelay Said(string room, ChatEvent message, DateTimeOffset at, string sender);

    /// <summary>
    /// A user entered a room (the notice is the room's "joined" event). When the user came from another room,
    /// <paramref name="left"/> is that room's "left" event: both and the membership change go out as one change, so no
    /// instance hears that the user left before the shared membership says so.
    /// </summary>
    void Entered(string nick, string room, ChatEvent notice, (string Room, ChatEvent Notice)? left = null);

    /// <summary>A user is gone, with the notice for the room if any: the nick is free again.</summary>
    void Left(string nick, string room, ChatEvent? notice);

    /// <summary>Sends <paramref name="message"/> to <paramref name="nick"/> on another instance: the nick as its owner spells it, null if nobody has it.</summary>
    ValueTask<Shared<string?>> SendPrivateAsync(string nick, ChatEvent message);

    /// <summary>The nicks in a room on every instance.</summary>
    ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room);

    /// <summary>Every room with members on any instance, and how many.</summary>
    ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync();

    /// <summary>
    /// What a user entering <paramref name="room"/> gets from the other instances: the room's name as its members
    /// there (or its history) spell it, and its last <paramref name="count"/> messages, oldest first, from every
    /// instance and across restarts.
    /// </summary>
    ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count);
}

/// <summary>The answer of a shared nick claim.</summary>
internal enum NickClaim
{
    Claimed,
    /// <summary>Someone on another instance has it.</summary>
    Taken,
    /// <summary>The shared store cannot be reached: the chat decides on what this instance knows.</summary>
    Unavailable,
}

/// <summary>What became of a message for the other instances.</summary>
internal enum LineRelay
{
    /// <summary>On its way to the other instances.</summary>
    Queued,
    /// <summary>It reaches only this instance (the other instances are behind): tell the sender, the first time.</summary>
    Refused,
    /// <summary>Refused again, and the sender was already told.</summary>
    StillRefused,
}

/// <summary>A room as all instances know it: <see cref="Name"/> is null for a room nobody is in or wrote to.</summary>
internal sealed record SharedRoom(string? Name, IReadOnlyList<(DateTimeOffset At, ChatEvent Event)> History);

/// <summary>An answer from the shared store, or <see cref="Unavailable"/> when it cannot be reached.</summary>
internal readonly record struct Shared<T>(bool Available, T Value)
{
    public static Shared<T> Unavailable => new(false, default!);

    public static Shared<T> Of(T value) => new(true, value);
}
