using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// What a client may say before it is registered: CAP (LS, REQ, LIST, END), PASS (ignored: there are no accounts),
/// NICK, USER, PING, PONG and QUIT; anything else is 451. Registration completes once NICK and USER came and CAP
/// negotiation, if started, ended: the nick is checked again (433 and another try if it went meanwhile), and the
/// client joins the chat.
/// </summary>
internal static class IrcRegistration
{
    public static IrcStep Handle(ChatServer server, IrcClient client, IrcMessage message)
    {
        switch (message.Command)
        {
            case "CAP":
                Cap(client, message);
                break;
            case "PASS":
                break;
            case "NICK":
                if (message.Count == 0 || message[0].Length == 0)
                {
                    client.Numeric("431", "No nickname given");
                    break;
                }

                if (NickAnswer(server, client, message[0]))
                {
                    client.RequestedNick = message[0];
                }

                break;
            case "USER":
                if (message.Count < 4)
                {
                    client.Numeric("461", "USER", "Not enough parameters");
                    break;
                }

                client.HasUser = true;
                break;
            case "PING":
                Pong(client, message);
                break;
            case "PONG":
                break;
            case "QUIT":
                return IrcStep.Quit;
            default:
                client.Numeric("451", IrcText.ToChat(message.Command), "You have not registered");
                break;
        }

        return client.RequestedNick is not null && client.HasUser && !client.Negotiating ? IrcStep.Register : IrcStep.Continue;
    }

    /// <summary>Whether the nick may be had (432 or 433 otherwise: the client tries another).</summary>
    public static bool NickAnswer(ChatServer server, IrcClient client, string nick)
    {
        switch (server.NickRefusal(nick, client.RemoteEndPoint))
        {
            case null:
                return true;
            case "it is taken":
                client.Numeric("433", nick, "Nickname is already in use");
                return false;
            case { } why:
                client.Numeric("432", nick, $"Erroneous nickname: {why}");
                return false;
        }
    }

    public static void Pong(IrcClient client, IrcMessage message)
    {
        if (message.Count == 0)
        {
            client.Numeric("409", "No origin specified");
            return;
        }

        client.Send($":{client.Lines.ServerName} PONG {client.Lines.ServerName} :{message[^1]}");
    }

    /// <summary>IRCv3 capability negotiation (version 302); after registration, requests are refused (a user's rendering is chosen as it joins).</summary>
    public static void Cap(IrcClient client, IrcMessage message)
    {
        var sub = message.Count > 0 ? message[0].ToUpperInvariant() : "";
        var registered = client.User is not null;
        var server = client.Lines.ServerName;
        switch (sub)
        {
            case "LS":
                client.Negotiating = !registered;
                client.Send($":{server} CAP {client.Me} LS :{string.Join(' ', IrcClient.Offered)}");
                break;
            case "LIST":
                client.Send($":{server} CAP {client.Me} LIST :{string.Join(' ', client.Caps.Order(StringComparer.Ordinal))}");
                break;
            case "REQ":
                var asked = message.Count > 1 ? message[1] : "";
                var caps = asked.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                client.Negotiating = !registered;
                if (registered || caps.Any(c => !IrcClient.Offered.Contains(c.TrimStart('-'))))
                {
                    client.Send($":{server} CAP {client.Me} NAK :{asked}");
                    break;
                }

                foreach (var cap in caps)
                {
                    if (cap.StartsWith('-'))
                    {
                        client.Caps.Remove(cap[1..]);
                    }
                    else
                    {
                        client.Caps.Add(cap);
                    }
                }

                client.Send($":{server} CAP {client.Me} ACK :{asked}");
                break;
            case "END":
                client.Negotiating = false;
                break;
            default:
                client.Numeric("410", IrcText.ToChat(sub), "Invalid CAP command");
                break;
        }
    }
}

/// <summary>What the read loop does after a line.</summary>
internal enum IrcStep
{
    Continue,
    Register,
    Quit,
}
