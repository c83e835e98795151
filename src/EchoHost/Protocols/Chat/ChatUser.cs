namespace EchoHost.Protocols.Chat;

/// <summary>One connected chat user. <see cref="Nick"/> and <see cref="Room"/> change only under the chat server's lock.</summary>
internal sealed class ChatUser(string listener, string nick, IChatOutbox outbox, IChatObserver observer)
{
    /// <summary>The listener the user came in on, for log lines.</summary>
    public string Listener { get; } = listener;

    public string Nick { get; set; } = nick;

    public ChatRoom? Room { get; set; }

    public IChatOutbox Outbox { get; } = outbox;

    /// <summary>Counts what this user causes (on the listener the user came in on).</summary>
    public IChatObserver Observer { get; } = observer;

    /// <summary>The client's address (no port), when known: who may take back this user's nick after a cut.</summary>
    public string? Address { get; init; }

    /// <summary>Private messages to this user are being refused (its queue is past the bound): logged once per episode.</summary>
    public bool PrivatesRefused { get; set; }

    public void Send(string line) => Outbox.TryEnqueue(ChatMessages.Encode(line));
}
