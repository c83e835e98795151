using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EchoHost.Tests.Configuration;

/// <summary>What a user would see at start for some settings: the shape check's lines, else the validator's.</summary>
internal static class ConfigurationFailures
{
    /// <summary>A valid configuration with one listener of each shipped protocol: Echo, Chat, Irc and Udp (UdpEcho).</summary>
    public static Dictionary<string, string?> OneListenerEach() => new()
    {
        ["EchoHost:Address"] = "127.0.0.1",
        ["EchoHost:Listeners:Echo:Protocol"] = "Echo",
        ["EchoHost:Listeners:Echo:Port"] = "65432",
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "65433",
        ["EchoHost:Listeners:Irc:Protocol"] = "Irc",
        ["EchoHost:Listeners:Irc:Port"] = "6667",
        ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
        ["EchoHost:Listeners:Udp:Port"] = "65400",
    };

    /// <summary>The listener set <paramref name="values"/> bind to (they must be valid).</summary>
    public static ListenerSet Listeners(IDictionary<string, string?> values, ProtocolRegistry? protocols = null)
    {
        protocols ??= TestProtocols.Registry;
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("EchoHost"), options, null, protocols);
        return ListenerSet.Of(options, protocols);
    }

    /// <summary>The failures for <paramref name="values"/>, in order; empty when they are valid.</summary>
    /// <param name="protocols">The registered protocols; the host's unless given.</param>
    public static IReadOnlyList<string> Of(IDictionary<string, string?> values, ProtocolRegistry? protocols = null)
    {
        protocols ??= TestProtocols.Registry;
        var options = new EchoHostOptions();
        try
        {
            ConfigurationShape.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("EchoHost"), options, null, protocols);
        }
        catch (OptionsValidationException ex)
        {
            return ex.Failures.ToList();
        }

        var result = new EchoHostOptionsValidator(protocols).Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }
}
