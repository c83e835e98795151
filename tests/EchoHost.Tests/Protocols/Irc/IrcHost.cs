using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>The real host with a chat listener and an IRC listener (port 0 both), sharing one chat.</summary>
internal static class IrcHost
{
    public static Task<TestHost> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Listeners:Irc:Protocol"] = "Irc",
            ["EchoHost:Listeners:Irc:Port"] = "0",
        };
        foreach (var (key, value) in extra ?? [])
        {
            config[key] = value;
        }

        return TestHost.StartAsync(config);
    }

    public static Task<(IrcTestClient Client, List<string> Burst)> RegisterAsync(TestHost host, string nick, params string[] caps) =>
        IrcTestClient.ConnectAsync(host.EndPoint("Irc"), nick, caps);

    public static Task<IrcTestClient> OpenAsync(TestHost host) => IrcTestClient.OpenAsync(host.EndPoint("Irc"));
}
