using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The PostgreSQL backplane's contract, in rendered lines; the core reaches it through <see cref="ChatBackplaneBus"/>
/// (its <see cref="IChatBus"/>). The second delivery path under the chat core, for rooms that span several instances
/// (scale-out). The core tells it what happened — after delivering locally — and asks it what other instances know; it delivers what other
/// instances did back through <see cref="IChatBackplaneSink"/>. Nothing here may block: one-way calls only queue,
/// and every question has an answer meaning "not reachable now", on which the core falls back to its own state.
/// Without a backplane the core is exactly the single-instance chat.
/// </summary>
internal interface IChatBackplane
{
    /// <summary>Called once, by the chat server this backplane serves.</summary>
    void Attach(IChatBackplaneSink sink);

    /// <summary>Claims a fresh guest nick, shared by all instances; null when unavailable.</summary>
    ValueTask<string?> ClaimGuestNickAsync(string room);

    /// <summary>Moves the user's claim from <paramref name="oldNick"/> to <paramref name="newNick"/>, and on success tells the room <paramref name="notice"/>.</summary>
    ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, string notice);

    /// <summary>
    /// A message <paramref name="sender"/> said in a room: stored in the room's history and delivered on other
    /// instances, unless too many of that sender's lines are still waiting for them (see <see cref="LineRelay"/>).
    /// </summary>
    LineRelay Said(string room, string line, DateTimeOffset at, string sender);

    /// <summary>
    /// A user entered a room (the notice is the room's "joined" line). When the user came from another room,
    /// <paramref name="left"/> is that room's "left" line: both notices and the membership change go out as one
    /// change, so no instance hears that the user left before the shared membership says so.
    /// </summary>
    void Entered(string nick, string room, string notice, (string Room, string Notice)? left = null);

    /// <summary>A user is gone, with the notice for the room if any: the nick is free again.</summary>
    void Left(string nick, string room, string? notice);

    /// <summary>Sends <paramref name="line"/> to <paramref name="nick"/> on another instance: the nick as its owner spells it, null if nobody has it.</summary>
    ValueTask<Shared<string?>> SendPrivateAsync(string nick, string line);

    /// <summary>The nicks in a room on every instance.</summary>
    ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room);

    /// <summary>Every room with members on any instance, and how many.</summary>
    ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync();

    /// <summary>
    /// What a user entering <paramref name="room"/> gets from the other instances: the room's name as its members
    /// there (or its history) spell it, and its last <paramref name="count"/> messages, oldest first, from every instance and across
    /// restarts.
    /// </summary>
    ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count);
}

/// <summary>A room as all instances know it: <see cref="Name"/> is null for a room nobody is in or wrote to.</summary>
internal sealed record SharedRoom(string? Name, IReadOnlyList<(DateTimeOffset At, string Line)> History);

/// <summary>How other instances' events reach this chat: through the same fan-out as local ones. Calls must be quick.</summary>
internal interface IChatBackplaneSink
{
    /// <summary>A line for everyone in <paramref name="room"/> here; <paramref name="remember"/> keeps it in the room's history.</summary>
    void DeliverToRoom(string room, string line, bool remember);

    /// <summary>A private line for <paramref name="nick"/>, if that user is here.</summary>
    void DeliverPrivate(string nick, string line);

    /// <summary>Everyone here and their room: what the backplane registers again after an outage.</summary>
    IReadOnlyList<(string Nick, string Room)> LocalUsers();

    /// <summary>
    /// <paramref name="nick"/> turned out to be taken on another instance while the store was unreachable: the user
    /// here becomes <paramref name="newNick"/> and is told why. False when that user is no longer here.
    /// </summary>
    bool ForceRename(string nick, string newNick);
}
