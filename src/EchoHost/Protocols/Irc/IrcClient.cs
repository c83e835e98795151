using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// One IRC connection's state, kept by its read loop only: what it asked for during registration (capabilities, nick,
/// user), then the chat user it became. Everything it is sent goes through its <see cref="ChatOutbox"/>.
/// </summary>
internal sealed class IrcClient(string connectionId, ChatOutbox outbox, IrcLines lines, string? remoteEndPoint, long connectedAt)
{
    /// <summary>The capabilities this server offers (IRCv3 CAP).</summary>
    public static readonly string[] Offered = ["echo-message", "message-tags", "server-time"];

    public string ConnectionId { get; } = connectionId;

    public ChatOutbox Outbox { get; } = outbox;

    public IrcLines Lines { get; } = lines;

    public string? RemoteEndPoint { get; } = remoteEndPoint;

    public long ConnectedAt { get; } = connectedAt;

    /// <summary>When the client last sent a line (a timestamp of the handler's clock): what keepalive measures.</summary>
    public long LastInput { get; set; } = connectedAt;

    /// <summary>The nick asked for with NICK before registration.</summary>
    public string? RequestedNick { get; set; }

    /// <summary>USER was sent.</summary>
    public bool HasUser { get; set; }

    /// <summary>CAP LS or REQ came before registration: it waits for CAP END.</summary>
    public bool Negotiating { get; set; }

    public HashSet<string> Caps { get; } = new(StringComparer.Ordinal);

    /// <summary>The chat user, once registered.</summary>
    public ChatUser? User { get; set; }

    public IrcRenderer? Renderer { get; set; }

    /// <summary>What QUIT said, if the client quit.</summary>
    public string? QuitMessage { get; set; }

    /// <summary>Why keepalive closed the connection, if it did.</summary>
    public string? Timeout { get; set; }

    /// <summary>The chat was full when the client registered: it was told (ERROR) and the connection ends.</summary>
    public bool Refused { get; set; }

    /// <summary>The client's own nick in replies: "*" until it has one.</summary>
    public string Me => User?.Nick ?? RequestedNick ?? "*";

    public bool Has(string cap) => Caps.Contains(cap);

    public void Send(string line) => Outbox.TryEnqueue(IrcLines.Encode(line));

    public void Send(IEnumerable<string> lines)
    {
        var bytes = IrcLines.Encode(lines);
        if (bytes.Length > 0)
        {
            Outbox.TryEnqueue(bytes);
        }
    }

    /// <summary>At most this much of one query's answer (WHO, LIST) is queued in one piece.</summary>
    public const int ReplyBudget = 64 * 1024;

    /// <summary>
    /// The answer to the client's own question (a WHO of a crowded channel, a LIST of many rooms): at most
    /// <see cref="ReplyBudget"/> of it, then a notice saying how much was left out, queued only if it fits beside what
    /// already waits, never cutting the client as a slow reader for having asked.
    /// </summary>
    public void SendReply(IEnumerable<string> lines)
    {
        var reply = new List<byte>();
        var left = 0;
        foreach (var line in lines)
        {
            var bytes = IrcLines.Encode(line);
            if (left > 0 || reply.Count + bytes.Length > ReplyBudget)
            {
                left++;
                continue;
            }

            reply.AddRange(bytes);
        }

        if (left > 0)
        {
            reply.AddRange(IrcLines.Encode(Lines.Notice(Me, $"{left} more lines of this answer were left out (at most {ReplyBudget / 1024} KiB per answer)")));
        }

        if (reply.Count > 0 && !Outbox.TryEnqueueWithin([.. reply], long.MaxValue))
        {
            Notice("That answer does not fit beside what is waiting for you; ask again once you have read it.");
        }
    }

    public void Numeric(string code, params ReadOnlySpan<string> args) => Send(Lines.Numeric(code, Me, args));

    public void Notice(string text) => Send(Lines.Notice(Me, text));
}
