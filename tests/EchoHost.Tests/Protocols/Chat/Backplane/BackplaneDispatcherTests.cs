using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>What the LISTEN connection hears, delivered into the chat without a database.</summary>
public sealed class BackplaneDispatcherTests
{
    private static readonly string Self = Guid.NewGuid().ToString("N");
    private static readonly string Other = Guid.NewGuid().ToString("N");

    private readonly Sink _sink = new();
    private readonly Counts _observer = new();

    private BackplaneDispatcher Dispatcher() => new(Self, _observer) { Sink = _sink };

    [Fact]
    public void Packed_events_of_another_instance_are_delivered_in_order_messages_remembered_notices_not()
    {
        var sequence = 0L;
        var payload = Assert.Single(BackplanePayload.Pack(Other, ref sequence,
        [
            (PayloadKind.RoomMessage, "lobby", "<ann> hi"),
            (PayloadKind.RoomNotice, "lobby", "*** bob joined lobby"),
            (PayloadKind.Private, "cy", "*ann* psst"),
        ]));

        Dispatcher().Dispatch(payload);

        Assert.Equal(["room lobby <ann> hi remember", "room lobby *** bob joined lobby", "private cy *ann* psst"], _sink.Calls);
        Assert.Equal(3, _observer.Received);
    }

    [Fact]
    public void One_event_alone_is_delivered_too()
    {
        Dispatcher().Dispatch(BackplanePayload.Format(Other, PayloadKind.Private, "cy", "*ann* psst"));

        Assert.Equal(["private cy *ann* psst"], _sink.Calls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Its_own_payloads_and_anything_not_a_payload_are_skipped(bool own)
    {
        Dispatcher().Dispatch(own ? BackplanePayload.Format(Self, PayloadKind.RoomMessage, "lobby", "<me> hi") : "not a payload");

        Assert.Empty(_sink.Calls);
        Assert.Equal(0, _observer.Received);
    }

    [Fact]
    public void Before_the_chat_attaches_nothing_is_delivered_or_counted()
    {
        new BackplaneDispatcher(Self, _observer).Dispatch(BackplanePayload.Format(Other, PayloadKind.RoomMessage, "lobby", "<ann> hi"));

        Assert.Equal(0, _observer.Received);
    }

    private sealed class Sink : IChatBackplaneSink
    {
        public List<string> Calls { get; } = [];

        public void DeliverToRoom(string room, string line, bool remember) => Calls.Add($"room {room} {line}{(remember ? " remember" : "")}");

        public void DeliverPrivate(string nick, string line) => Calls.Add($"private {nick} {line}");

        public IReadOnlyList<(string Nick, string Room)> LocalUsers() => [];

        public bool ForceRename(string nick, string newNick) => false;
    }

    private sealed class Counts : IBackplaneObserver
    {
        public int Received { get; private set; }

        public void Published(int messages)
        {
        }

        void IBackplaneObserver.Received(int messages) => Received += messages;

        public void Error(int count = 1)
        {
        }

        public void Unpublished(int messages, UnpublishedReason reason = UnpublishedReason.Unreachable)
        {
        }

        public void Connected(bool connected)
        {
        }

        public void StartSeriesAtZero()
        {
        }
    }
}
