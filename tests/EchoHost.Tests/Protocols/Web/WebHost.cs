using System.Net.WebSockets;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Irc;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>The real host with a Web listener, a chat listener and an IRC listener (port 0 all), sharing one chat.</summary>
internal static class WebHost
{
    public static Task<TestHost> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Web:Protocol"] = "Web",
            ["EchoHost:Listeners:Web:Port"] = "0",
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        return IrcHost.StartAsync(config);
    }

    /// <summary><c>http://127.0.0.1:port/</c> of the Web listener.</summary>
    public static Uri HttpBase(this TestHost host, string listener = "Web") => new($"http://{host.EndPoint(listener)}/");

    /// <summary><c>ws://127.0.0.1:port/path</c> of the Web listener.</summary>
    public static Uri WebSocketUri(this TestHost host, string path, string listener = "Web") => new($"ws://{host.EndPoint(listener)}{path}");

    /// <summary>A connected WebSocket client; <paramref name="configure"/> may offer subprotocols or set an Origin.</summary>
    public static async Task<ClientWebSocket> ConnectWebSocketAsync(this TestHost host, string path, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(host.WebSocketUri(path), TestTimeouts.Token());
        return socket;
    }
}
