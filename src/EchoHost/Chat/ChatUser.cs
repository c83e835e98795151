using EchoHost.Connections;
using EchoHost.Telemetry;

namespace EchoHost.Chat;

/// <summary>
/// One connected chat user. <see cref="Nick"/> and <see cref="Room"/> change only under the chat server's lock; both are
/// mirrored onto the connection's session so <c>GET /connections</c> shows them.
/// </summary>
internal sealed class ChatUser(string connectionId, string listener, string nick, ChatOutbox outbox, ListenerMetrics metrics, ConnectionSession? session)
{
    private string _nick = SetOnSession(session, nick);
    private ChatRoom? _room;

    public string ConnectionId { get; } = connectionId;

    public string Listener { get; } = listener;

    public ListenerMetrics Metrics { get; } = metrics;

    public string Nick
    {
        get => _nick;
        set => _nick = SetOnSession(session, value);
    }

    public ChatRoom? Room
    {
        get => _room;
        set
        {
            _room = value;
            if (session is not null)
            {
                session.Room = value?.Name;
            }
        }
    }

    public ChatOutbox Outbox { get; } = outbox;

    public void Send(string line) => Outbox.TryEnqueue(line);

    private static string SetOnSession(ConnectionSession? session, string nick)
    {
        if (session is not null)
        {
            session.Nick = nick;
        }

        return nick;
    }
}
