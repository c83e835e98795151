using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

/// <summary>
/// <c>Greeting</c>, a key of chat listeners alone: <c>Full</c> unless set, <c>Minimal</c> for lock-step clients, and one
/// line naming the key for a bad value or a listener of another protocol.
/// </summary>
public sealed class ListenerGreetingValidationTests
{
    private static Dictionary<string, string?> Valid() => ConfigurationFailures.OneListenerEach();

    private static IReadOnlyList<string> Failures(string key, string value)
    {
        var values = Valid();
        values[key] = value;
        return ConfigurationFailures.Of(values);
    }

    private static ListenerDefinition Chat(Dictionary<string, string?> values) =>
        Assert.Single(ConfigurationFailures.Listeners(values).All, l => l.Name == "Chat");

    [Fact]
    public void A_chat_listener_greets_in_full_unless_it_says_minimal()
    {
        Assert.Equal(GreetingMode.Full, Chat(Valid()).Own<ChatListenerOptions>().Greeting);

        var values = Valid();
        values["EchoHost:Listeners:Chat:Greeting"] = "minimal";
        Assert.Empty(ConfigurationFailures.Of(values));
        Assert.Equal(GreetingMode.Minimal, Chat(values).Own<ChatListenerOptions>().Greeting);
    }

    [Theory]
    [InlineData("Short", "EchoHost:Listeners:Chat:Greeting: 'Short' is not one of Full, Minimal")]
    [InlineData("7", "EchoHost:Listeners:Chat:Greeting: use one of Full, Minimal")]
    public void A_bad_value_is_one_line_listing_the_values(string value, string expected) =>
        Assert.Equal(expected, Assert.Single(Failures("EchoHost:Listeners:Chat:Greeting", value)));

    [Theory]
    [InlineData("Echo", "Echo")]
    [InlineData("Udp", "UdpEcho")]
    public void Another_protocols_listener_is_told_the_key_is_for_chat_listeners(string listener, string protocol) =>
        Assert.Equal(
            $"EchoHost:Listeners:{listener}:Greeting: applies to Chat listeners only; remove it from this {protocol} listener",
            Assert.Single(Failures($"EchoHost:Listeners:{listener}:Greeting", "Minimal")));

    [Fact]
    public void Only_a_chat_listener_is_offered_the_key()
    {
        var echo = Assert.Single(Failures("EchoHost:Listeners:Echo:Colour", "red"));
        var chat = Assert.Single(Failures("EchoHost:Listeners:Chat:Greting", "Minimal"));

        Assert.DoesNotContain("Greeting", echo);
        Assert.StartsWith("EchoHost:Listeners:Chat:Greting: unknown key; did you mean Greeting? known keys here are ", chat);
        Assert.EndsWith(", Banner, Greeting, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout", chat);
    }
}
