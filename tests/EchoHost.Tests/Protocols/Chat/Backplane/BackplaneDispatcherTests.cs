using System.Threading.Channels;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>What the LISTEN connection hears, queued as deliveries for the chat core without a database.</summary>
public sealed class BackplaneDispatcherTests
{
    private static readonly string Self = Guid.NewGuid().ToString("N");
    private static readonly string Other = Guid.NewGuid().ToString("N");

    private readonly Channel<ChatDelivery> _deliveries = Channel.CreateUnbounded<ChatDelivery>();
    private readonly Counts _observer = new();
    private readonly ChatLineRenderer _lines = new(new ChatOptions());

    private BackplaneDispatcher Dispatcher() => new(Self, _observer, _deliveries.Writer);

    /// <summary>What the core would pull now, in a readable form (events as the line protocol renders them).</summary>
    private List<string> Delivered()
    {
        var calls = new List<string>();
        while (_deliveries.Reader.TryRead(out var delivery))
        {
            calls.Add(delivery switch
            {
                ChatDelivery.ToRoom room => $"room {room.Room} {_lines.Text(room.Event)}{(room.Remember ? " remember" : "")}",
                ChatDelivery.ToUser user => $"private {user.Nick} {_lines.Text(user.Event)}",
                _ => delivery.ToString()!,
            });
        }

        return calls;
    }

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

        Assert.Equal(["room lobby <ann> hi remember", "room lobby *** bob joined lobby", "private cy *ann* psst"], Delivered());
        Assert.Equal(3, _observer.Received);
    }

    [Fact]
    public void One_event_alone_is_delivered_too()
    {
        Dispatcher().Dispatch(BackplanePayload.Format(Other, PayloadKind.Private, "cy", "*ann* psst"));

        Assert.Equal(["private cy *ann* psst"], Delivered());
    }

    [Fact]
    public void Events_arrive_as_events_and_lines_of_an_older_version_verbatim()
    {
        var sequence = 0L;
        var payload = Assert.Single(BackplanePayload.Pack(Other, ref sequence,
        [
            (PayloadKind.RoomMessage, "lobby", ChatEventCodec.Encode(ChatEvent.Message("lobby", "ann", "hi"))),
            (PayloadKind.RoomNotice, "lobby", ChatEventCodec.Encode(ChatEvent.Left("lobby", "bob", "quit"))),
            (PayloadKind.RoomMessage, "lobby", "<old> a line of an older version"),
        ]));

        Dispatcher().Dispatch(payload);

        var events = new List<ChatEvent>();
        while (_deliveries.Reader.TryRead(out var delivery))
        {
            events.Add(((ChatDelivery.ToRoom)delivery).Event);
        }

        Assert.Equal([ChatEvent.Message("lobby", "ann", "hi"), ChatEvent.Left("lobby", "bob", "quit"), ChatEvent.Verbatim("<old> a line of an older version")], events);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Its_own_payloads_and_anything_not_a_payload_are_skipped(bool own)
    {
        Dispatcher().Dispatch(own ? BackplanePayload.Format(Self, PayloadKind.RoomMessage, "lobby", "<me> hi") : "not a payload");

        Assert.Empty(Delivered());
        Assert.Equal(0, _observer.Received);
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
