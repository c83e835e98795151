namespace EchoHost.Chat;

/// <summary>One connected chat user. <see cref="Nick"/> and <see cref="Room"/> change only under the chat server's lock.</summary>
internal sealed class ChatUser(string connectionId, string listener, string nick, ChatOutbox outbox)
{
    public string ConnectionId { get; } = connectionId;

    public string Listener { get; } = listener;

    public string Nick { get; set; } = nick;

    public ChatRoom? Room { get; set; }

    public ChatOutbox Outbox { get; } = outbox;

    public void Send(string line) => Outbox.TryEnqueue(line);
}
