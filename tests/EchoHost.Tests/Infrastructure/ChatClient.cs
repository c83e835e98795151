using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

/// <summary>A chat user over a real socket, reading the server's CRLF lines.</summary>
internal sealed class ChatClient(Socket socket) : LineClient(socket, "\n")
{
    public string Nick { get; private set; } = "";

    /// <summary>
    /// Connects, sends <paramref name="proxyHeader"/> first if given (as a load balancer would), and reads the greeting
    /// up to the "You are now in lobby" line; returns the lines in between.
    /// </summary>
    public static async Task<ChatClient> ConnectAsync(IPEndPoint endPoint, byte[]? proxyHeader = null)
    {
        var socket = await SocketExtensions.ConnectAsync(endPoint);
        if (proxyHeader is not null)
        {
            await socket.SendAllAsync(proxyHeader);
        }

        var client = new ChatClient(socket);
        var welcome = await client.ReadLineAsync();
        Assert.StartsWith("*** Welcome to EchoHost chat, guest-", welcome);
        client.Nick = welcome["*** Welcome to EchoHost chat, ".Length..welcome.IndexOf('!')];
        client.Greeting = await client.ReadUntilAsync(l => l.StartsWith("*** You are now in lobby", StringComparison.Ordinal));
        return client;
    }

    /// <summary>What came between the welcome line and the "You are now in" line: the history, if any.</summary>
    public List<string> Greeting { get; private set; } = [];

    /// <summary>Asks for <paramref name="nick"/> and returns the answer, past whatever the room said meanwhile.</summary>
    public async Task<string> AskNickAsync(string nick)
    {
        await SendAsync($"/nick {nick}");
        await ReadUntilAsync(l => l.StartsWith("*** You are now known as ", StringComparison.Ordinal) || l.StartsWith("!!!", StringComparison.Ordinal));
        return LastLine;
    }

    /// <summary>
    /// Everything the server sent before now: asks for /who and returns the lines that came before its answer. The
    /// server answers in order, so a line meant for this user before the /who would be in the list.
    /// </summary>
    public async Task<List<string>> SyncAsync()
    {
        await SendAsync("/who");
        return await ReadUntilAsync(l => l.StartsWith("*** ", StringComparison.Ordinal) && l.Contains(" (") && l.Contains("): "));
    }
}
