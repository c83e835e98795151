using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// The commands of a registered IRC user, each turned into the chat core's operations (the mapping is in
/// docs/irc.md). A user is in one room at a time, as line users are: JOIN moves, PART goes back to #lobby.
/// </summary>
internal sealed class IrcCommands(ChatServer server, IrcWelcome welcome)
{
    public async ValueTask<IrcStep> RunAsync(IrcClient client, IrcMessage message)
    {
        var user = client.User!;
        switch (message.Command)
        {
            case "PRIVMSG" or "NOTICE":
                await MessageAsync(client, user, message);
                break;
            case "JOIN":
                if (Needs(client, message, 1))
                {
                    await JoinAsync(client, user, message[0]);
                }

                break;
            case "PART":
                if (Needs(client, message, 1))
                {
                    await PartAsync(client, user, message[0].Split(',')[0]);
                }

                break;
            case "TOPIC":
                if (Needs(client, message, 1) && InRoom(client, user, message[0]))
                {
                    Topic(user, message);
                }

                break;
            case "NAMES":
                await IrcQueries.NamesAsync(server, client, message.Count > 0 ? message[0].Split(',')[0] : IrcText.Channel(user.Room!.Name));
                break;
            case "LIST":
                await IrcQueries.ListAsync(server, client);
                break;
            case "WHO":
                await IrcQueries.WhoAsync(server, client, message.Count > 0 ? message[0] : IrcText.Channel(user.Room!.Name));
                break;
            case "WHOIS":
                if (message.Count == 0)
                {
                    client.Numeric("431", "No nickname given");
                    break;
                }

                IrcQueries.Whois(server, client, message[^1]);
                break;
            case "MODE":
                if (Needs(client, message, 1))
                {
                    IrcQueries.Mode(client, message);
                }

                break;
            case "NICK":
                await NickAsync(client, user, message);
                break;
            case "PING":
                IrcRegistration.Pong(client, message);
                break;
            case "PONG":
                break;
            // Client-only tags (typing notifications) have nowhere to go: line users could not show them.
            case "TAGMSG":
                break;
            case "CAP":
                IrcRegistration.Cap(client, message);
                break;
            case "AWAY":
                client.Numeric(message.Count > 0 && message[0].Length > 0 ? "306" : "305",
                    message.Count > 0 && message[0].Length > 0 ? "You have been marked as being away" : "You are no longer marked as being away");
                break;
            case "ISON":
                IrcQueries.Ison(server, client, message);
                break;
            case "USERHOST":
                IrcQueries.Userhost(server, client, message);
                break;
            case "WHOWAS":
                // Nobody is remembered; the end tells a client (irssi's /whois falls back to it) not to wait.
                client.Numeric("406", message.Count > 0 ? message[0] : "*", "There was no such nickname");
                client.Numeric("369", message.Count > 0 ? message[0] : "*", "End of WHOWAS");
                break;
            case "MOTD":
                client.Send(welcome.MessageOfTheDay(client.Me));
                break;
            case "PASS" or "USER":
                client.Numeric("462", "You may not reregister");
                break;
            case "QUIT":
                return IrcStep.Quit;
            default:
                client.Numeric("421", IrcText.ToChat(message.Command), "Unknown command");
                break;
        }

        return IrcStep.Continue;
    }

    private static bool Needs(IrcClient client, IrcMessage message, int count)
    {
        if (message.Count >= count && message[0].Length > 0)
        {
            return true;
        }

        client.Numeric("461", message.Command, "Not enough parameters");
        return false;
    }

    /// <summary>Whether <paramref name="channel"/> is the user's room (442 otherwise).</summary>
    private static bool InRoom(IrcClient client, ChatUser user, string channel)
    {
        if (IrcText.Room(channel) is { } room && IrcText.Same(room, user.Room!.Name))
        {
            return true;
        }

        client.Numeric("442", channel, "You're not on that channel");
        return false;
    }

    private async ValueTask MessageAsync(IrcClient client, ChatUser user, IrcMessage message)
    {
        var notice = message.Command == "NOTICE";
        if (message.Count == 0 || message[0].Length == 0)
        {
            if (!notice)
            {
                client.Numeric("411", $"No recipient given ({message.Command})");
            }

            return;
        }

        if (message.Count < 2 || message[1].Length == 0)
        {
            if (!notice)
            {
                client.Numeric("412", "No text to send");
            }

            return;
        }

        var target = message[0].Split(',')[0];
        var ctcp = IrcText.AsCtcp(message[1]);
        if (ctcp is { Command: not "ACTION" })
        {
            Ctcp(client, target, ctcp.Value, notice);
            return;
        }

        var text = IrcText.ToChat(ctcp?.Argument ?? message[1]).Trim();
        if (text.Length == 0)
        {
            return;
        }

        if (IrcText.Room(target) is { } room)
        {
            if (notice ? !IrcText.Same(room, user.Room!.Name) : !InRoom(client, user, target))
            {
                return;
            }

            if (ctcp is not null)
            {
                server.Act(user, text);
            }
            else
            {
                server.Say(user, text);
            }

            // echo-message: the sender sees its message as the others do.
            if (client.Renderer!.EchoMessage)
            {
                var said = ctcp is not null ? ChatEvent.Action(user.Room!.Name, user.Nick, text) : ChatEvent.Message(user.Room!.Name, user.Nick, text);
                client.Send(client.Renderer.Lines(said));
            }

            return;
        }

        // A private /me reads the same to both kinds: "* nick does".
        await server.PrivateMessageAsync(user, target, ctcp is not null ? $"* {user.Nick} {text}" : text, quietly: notice);
    }

    /// <summary>CTCP other than ACTION: VERSION and PING to a user are answered here, for it; the rest is ignored.</summary>
    private static void Ctcp(IrcClient client, string target, (string Command, string Argument) ctcp, bool notice)
    {
        if (notice || IrcText.Room(target) is not null)
        {
            return;
        }

        var answer = ctcp.Command switch
        {
            "VERSION" => "VERSION EchoHost chat",
            "PING" => $"PING {ctcp.Argument}",
            _ => null,
        };
        if (answer is not null)
        {
            client.Send($":{client.Lines.Prefix(target)} NOTICE {client.Me} :{IrcText.Ctcp}{answer}{IrcText.Ctcp}");
        }
    }

    private async ValueTask JoinAsync(IrcClient client, ChatUser user, string channels)
    {
        // One channel at a time (CHANLIMIT=#:1): of a list only the last is joined, so a line of hundreds of channels
        // is one move, not hundreds (each a round trip to the backplane and a burst to every room on the way).
        foreach (var channel in channels.Split(',', StringSplitOptions.RemoveEmptyEntries).TakeLast(1))
        {
            // "JOIN 0" leaves every channel: here, back to the lobby.
            var room = channel == "0" ? ChatServer.Lobby : IrcText.Room(channel);
            if (room is null)
            {
                client.Numeric("403", channel, "No such channel");
                continue;
            }

            if (ChatNames.Problem(room, "room name") is { } why)
            {
                client.Numeric("479", channel, $"Illegal channel name: {why}");
                continue;
            }

            if (IrcText.Same(room, user.Room!.Name))
            {
                continue;
            }

            await MoveAsync(client, user, room);
        }
    }

    private async ValueTask PartAsync(IrcClient client, ChatUser user, string channel)
    {
        if (!InRoom(client, user, channel))
        {
            return;
        }

        if (IrcText.Same(user.Room!.Name, ChatServer.Lobby))
        {
            client.Notice("You are always in one channel: #lobby is where you are when in no other.");
            return;
        }

        await MoveAsync(client, user, ChatServer.Lobby);
    }

    /// <summary>Moves the user (the core sends the PART, JOIN, topic and history), then the names of the channel entered.</summary>
    private async ValueTask MoveAsync(IrcClient client, ChatUser user, string room)
    {
        var before = user.Room;
        await server.JoinAsync(user, room);
        if (user.Room != before)
        {
            await IrcQueries.NamesAsync(server, client, IrcText.Channel(user.Room!.Name));
        }
    }

    private void Topic(ChatUser user, IrcMessage message)
    {
        if (message.Count < 2)
        {
            server.ShowTopic(user);
            return;
        }

        var topic = IrcText.ToChat(message[1]).Trim();
        server.SetTopic(user, topic);
    }

    private async ValueTask NickAsync(IrcClient client, ChatUser user, IrcMessage message)
    {
        if (message.Count == 0 || message[0].Length == 0)
        {
            client.Numeric("431", "No nickname given");
            return;
        }

        var old = user.Nick;
        if (old == message[0])
        {
            return;
        }

        await server.ChangeNickAsync(user, message[0]);
        if (user.Nick != old)
        {
            client.Send($":{client.Lines.Prefix(old)} NICK :{user.Nick}");
        }
    }
}
