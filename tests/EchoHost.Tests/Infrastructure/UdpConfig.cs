namespace EchoHost.Tests.Infrastructure;

internal static class UdpConfig
{
    /// <summary>Overrides for <see cref="TestHost"/>: a UDP echo listener on a free port plus <paramref name="settings"/> under its key.</summary>
    public static Dictionary<string, string?> Listener(string name = "UdpEcho", IDictionary<string, string?>? settings = null)
    {
        var config = new Dictionary<string, string?>
        {
            [$"EchoHost:Listeners:{name}:Protocol"] = "UdpEcho",
            [$"EchoHost:Listeners:{name}:Port"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[$"EchoHost:Listeners:{name}:{key}"] = value;
        }

        return config;
    }
}
