using System.Globalization;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// The questions clients ask, answered from the chat core (every instance's members where the core knows them):
/// NAMES, LIST, WHO, WHOIS, MODE (no modes here: the answers a client waits for), ISON, USERHOST.
/// </summary>
internal static class IrcQueries
{
    public static async ValueTask NamesAsync(ChatServer server, IrcClient client, string channel)
    {
        if (IrcText.Room(channel) is { } room && ChatNames.Problem(room, "room name") is null && await server.NicksAsync(room) is { } found)
        {
            channel = IrcText.Channel(found.Room);
            var head = client.Lines.Numeric("353", client.Me, "=", channel, "").TrimEnd(':', ' ');
            // As many nicks per line as fit in 512 bytes.
            var line = new List<string>();
            var bytes = 0;
            foreach (var nick in found.Nicks)
            {
                if (bytes + nick.Length + 1 > IrcLines.MaxLineBytes - head.Length - 8 && line.Count > 0)
                {
                    client.Send($"{head} :{string.Join(' ', line)}");
                    line.Clear();
                    bytes = 0;
                }

                line.Add(nick);
                bytes += nick.Length + 1;
            }

            if (line.Count > 0)
            {
                client.Send($"{head} :{string.Join(' ', line)}");
            }
        }

        client.Numeric("366", channel, "End of /NAMES list.");
    }

    public static async ValueTask ListAsync(ChatServer server, IrcClient client)
    {
        var rooms = await server.RoomsAsync();
        client.Numeric("321", "Channel", "Users  Name");
        client.SendReply(rooms.Select(r => client.Lines.Numeric(
            "322", client.Me, IrcText.Channel(r.Name), r.Members.ToString(CultureInfo.InvariantCulture), r.Topic?.Text ?? "")));
        client.Numeric("323", "End of /LIST");
    }

    public static async ValueTask WhoAsync(ChatServer server, IrcClient client, string mask)
    {
        if (IrcText.Room(mask) is { } room)
        {
            if (ChatNames.Problem(room, "room name") is null && await server.NicksAsync(room) is { } found)
            {
                mask = IrcText.Channel(found.Room);
                client.SendReply(found.Nicks.Select(nick => WhoReply(client, mask, nick)));
            }
        }
        else if (server.FindHere(mask) is { } user)
        {
            client.Send(WhoReply(client, user.Room is { } r ? IrcText.Channel(r) : "*", user.Nick));
        }

        client.Numeric("315", mask, "End of /WHO list.");
    }

    private static string WhoReply(IrcClient client, string channel, string nick) =>
        client.Lines.Numeric("352", client.Me, channel, "~chat", client.Lines.ServerName, client.Lines.ServerName, nick, "H", $"0 {nick}");

    public static void Whois(ChatServer server, IrcClient client, string nick)
    {
        if (server.FindHere(nick) is { } user)
        {
            client.Numeric("311", user.Nick, "~chat", client.Lines.ServerName, "*", user.Nick);
            if (user.Room is { } room)
            {
                client.Numeric("319", user.Nick, IrcText.Channel(room));
            }

            client.Numeric("312", user.Nick, client.Lines.ServerName, "EchoHost chat");
            nick = user.Nick;
        }
        else
        {
            client.Numeric("401", nick, "No such nick/channel");
        }

        client.Numeric("318", nick, "End of /WHOIS list.");
    }

    /// <summary>Channels have no modes and no bans; users have none either. Setting one is refused.</summary>
    public static void Mode(IrcClient client, IrcMessage message)
    {
        var target = message[0];
        if (IrcText.Room(target) is not null)
        {
            if (message.Count == 1)
            {
                client.Numeric("324", target, "+");
            }
            else if (message[1].TrimStart('+') == "b")
            {
                client.Numeric("368", target, "End of channel ban list");
            }
            else
            {
                client.Numeric("482", target, "Channel modes are not supported here");
            }

            return;
        }

        if (!IrcText.Same(target, client.Me))
        {
            client.Numeric("502", "Can't change mode for other users");
        }
        else if (message.Count == 1)
        {
            client.Numeric("221", "+");
        }
    }

    public static void Ison(ChatServer server, IrcClient client, IrcMessage message)
    {
        var here = message.Params.SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(server.FindHere).Where(u => u is not null).Select(u => u!.Value.Nick);
        client.Numeric("303", string.Join(' ', here));
    }

    public static void Userhost(ChatServer server, IrcClient client, IrcMessage message)
    {
        var here = message.Params.Take(5).Select(server.FindHere).Where(u => u is not null)
            .Select(u => $"{u!.Value.Nick}=+~chat@{client.Lines.ServerName}");
        client.Numeric("302", string.Join(' ', here));
    }
}
