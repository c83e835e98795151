using System.Threading.Channels;

namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The chat on one instance: there is nobody else to tell or to ask, so every answer is "nothing beyond this
/// instance" at once, and nothing is ever delivered from elsewhere.
/// </summary>
internal sealed class LocalChatBus : IChatBus
{
    private readonly Channel<ChatDelivery> _none = Channel.CreateUnbounded<ChatDelivery>();

    public LocalChatBus() => _none.Writer.Complete();

    public ChannelReader<ChatDelivery> Deliveries => _none.Reader;

    public ValueTask<string?> ClaimGuestNickAsync(string room) => ValueTask.FromResult<string?>(null);

    public ValueTask<NickClaim> ClaimNickAsync(string nick, string room) => ValueTask.FromResult(NickClaim.Unavailable);

    public ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, ChatEvent notice) => ValueTask.FromResult(NickClaim.Unavailable);

    public LineRelay Said(string room, ChatEvent message, DateTimeOffset at, string sender) => LineRelay.Queued;

    public void Entered(string nick, string room, ChatEvent notice, (string Room, ChatEvent Notice)? left = null)
    {
    }

    public void Left(string nick, string room, ChatEvent? notice)
    {
    }

    public ValueTask<Shared<string?>> SendPrivateAsync(string nick, ChatEvent message) => ValueTask.FromResult(Shared<string?>.Unavailable);

    public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) => ValueTask.FromResult(Shared<IReadOnlyList<string>>.Unavailable);

    public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() =>
        ValueTask.FromResult(Shared<IReadOnlyList<(string Name, int Members)>>.Unavailable);

    public ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count) => ValueTask.FromResult(Shared<SharedRoom>.Unavailable);
}
