using System.Diagnostics;
using System.Diagnostics.Metrics;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The chat's counts as one listener's metrics: the adapter between the chat core and telemetry. The chat's
/// instruments are its own (<see cref="Instruments"/>), on the shared <c>EchoHost</c> meter, tagged with the listener.
/// </summary>
internal sealed class ChatMetrics : IChatObserver
{
    private readonly Instruments _instruments;
    private readonly ListenerMetrics _listener;
    private readonly TagList _tags;

    public ChatMetrics(ListenerMetrics metrics)
    {
        _listener = metrics;
        _tags = metrics.Tags;
        var instruments = _instruments = metrics.Instruments(static meter => new Instruments(meter));
        var tags = _tags;
        metrics.Declare(() =>
        {
            instruments.Users.Add(0, tags);
            instruments.Rooms.Add(0, tags);
            instruments.MessagesDelivered.Add(0, tags);
            instruments.SlowReadersDisconnected.Add(0, tags);
            foreach (var reason in Enum.GetValues<ChatLineDropReason>())
            {
                instruments.LinesDropped.Add(0, metrics.WithReason(reason.TagValue()));
            }
        });
    }

    public void UserJoined() => _instruments.Users.Add(1, _tags);

    public void UserLeft() => _instruments.Users.Add(-1, _tags);

    public void RoomOpened() => _instruments.Rooms.Add(1, _tags);

    public void RoomClosed() => _instruments.Rooms.Add(-1, _tags);

    public void Delivered(int recipients) => _instruments.MessagesDelivered.Add(recipients, _tags);

    public void LineDropped(ChatLineDropReason reason) => _instruments.LinesDropped.Add(1, _listener.WithReason(reason.TagValue()));

    public void SlowReaderDisconnected() => _instruments.SlowReadersDisconnected.Add(1, _tags);

    /// <summary>The chat's instruments, once per host; their names, units and descriptions are what /metrics shows.</summary>
    private sealed class Instruments(Meter meter)
    {
        public UpDownCounter<long> Users { get; } = meter.CreateUpDownCounter<long>("echohost.chat.users", "{user}", "Chat users signed in now.");

        public UpDownCounter<long> Rooms { get; } = meter.CreateUpDownCounter<long>("echohost.chat.rooms", "{room}", "Chat rooms that exist now.");

        public Counter<long> MessagesDelivered { get; } =
            meter.CreateCounter<long>("echohost.chat.messages.delivered", "{message}", "Chat messages delivered to recipients (one per recipient).");

        public Counter<long> LinesDropped { get; } = meter.CreateCounter<long>("echohost.chat.lines.dropped", "{line}", "Chat lines dropped instead of delivered.");

        public Counter<long> SlowReadersDisconnected { get; } =
            meter.CreateCounter<long>("echohost.chat.slow_readers.disconnected", "{connection}", "Chat clients disconnected because they did not read fast enough.");
    }
}
