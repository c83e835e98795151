using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

/// <summary>An IRC client over a real socket, as irssi speaks it: CRLF lines, registration, reads until a line matches.</summary>
internal sealed class IrcTestClient(Socket socket) : LineClient(socket, "\r\n")
{
    public string Nick { get; private set; } = "";

    public static async Task<IrcTestClient> OpenAsync(IPEndPoint endPoint) => new(await SocketExtensions.ConnectAsync(endPoint));

    /// <summary>Connects and registers as <paramref name="nick"/> (asking for <paramref name="caps"/> first, if any); returns the lines up to 366 of #lobby.</summary>
    public static async Task<(IrcTestClient Client, List<string> Burst)> ConnectAsync(IPEndPoint endPoint, string nick, params string[] caps)
    {
        var client = await OpenAsync(endPoint);
        if (caps.Length > 0)
        {
            await client.SendAsync("CAP LS 302");
            await client.SendAsync($"CAP REQ :{string.Join(' ', caps)}");
        }

        await client.SendAsync($"NICK {nick}");
        await client.SendAsync($"USER {nick} 0 * :{nick}");
        if (caps.Length > 0)
        {
            await client.SendAsync("CAP END");
        }

        var burst = await client.ReadUntilAsync(l => l.Contains(" 366 ", StringComparison.Ordinal));
        burst.Add(client.LastLine);
        client.Nick = burst.Single(l => l.Contains(" 001 ", StringComparison.Ordinal)).Split(' ')[2];
        return (client, burst);
    }

    /// <summary>Reads until a line contains <paramref name="text"/>; returns that line.</summary>
    public async Task<string> ExpectAsync(string text)
    {
        await ReadUntilAsync(l => l.Contains(text, StringComparison.Ordinal));
        return LastLine;
    }

    /// <summary>Everything the server sent before now: a PING with a token, and the lines before its PONG.</summary>
    public async Task<List<string>> SyncAsync()
    {
        var token = Guid.NewGuid().ToString("N");
        await SendAsync($"PING :{token}");
        return await ReadUntilAsync(l => l.Contains(" PONG ", StringComparison.Ordinal) && l.EndsWith(token, StringComparison.Ordinal));
    }
}
