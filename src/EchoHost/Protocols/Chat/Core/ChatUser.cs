namespace EchoHost.Protocols.Chat.Core;

/// <summary>One connected chat user. <see cref="Nick"/> and <see cref="Room"/> change only under the chat server's lock.</summary>
internal sealed class ChatUser(string nick, ChatSession session, string? address)
{
    public string Nick { get; set; } = nick;

    public ChatRoom? Room { get; set; }

    public ChatSession Session { get; } = session;

    public IChatOutbox Outbox => Session.Outbox;

    public IChatRenderer Renderer => Session.Renderer;

    /// <summary>Counts what this user causes.</summary>
    public IChatObserver Observer => Session.Observer;

    public IChatActivityLog Log => Session.Log;

    /// <summary>The client's address (no port), when known: who may take back this user's nick after a cut.</summary>
    public string? Address { get; } = address;

    /// <summary>Private messages to this user are being refused (its queue is past the bound): logged once per episode.</summary>
    public bool PrivatesRefused { get; set; }

    /// <summary>Queues the event as the user's kind renders it; an event the kind does not show renders as nothing.</summary>
    public void Send(ChatEvent chatEvent)
    {
        var bytes = Renderer.Render(chatEvent);
        if (bytes.Length > 0)
        {
            Outbox.TryEnqueue(bytes);
        }
    }
}
