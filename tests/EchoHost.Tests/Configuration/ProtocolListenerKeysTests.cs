using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;
using EchoHost.Tests.Protocols.Discard;

namespace EchoHost.Tests.Configuration;

/// <summary>
/// A protocol's own listener keys (<see cref="ProtocolRegistration.ListenerOptions"/>) are generic: the Discard protocol,
/// registered only here, declares <c>CloseAfterBytes</c>, which is offered, type-checked, validated by the protocol and
/// bound on its listeners, and refused on every other protocol's, exactly like the chat's <c>Greeting</c>.
/// </summary>
public sealed class ProtocolListenerKeysTests
{
    private static readonly ProtocolRegistry Protocols = new([.. TestProtocols.Registry.All, DiscardProtocol.Registration]);

    private static Dictionary<string, string?> Valid() => new(ConfigurationFailures.OneListenerEach())
    {
        ["EchoHost:Listeners:Sink:Protocol"] = "Discard",
        ["EchoHost:Listeners:Sink:Port"] = "65409",
    };

    private static IReadOnlyList<string> Failures(string key, string value)
    {
        var values = Valid();
        values[key] = value;
        return ConfigurationFailures.Of(values, Protocols);
    }

    private static ListenerSet Listeners(Dictionary<string, string?> values) => ConfigurationFailures.Listeners(values, Protocols);

    [Fact]
    public void A_listener_gets_its_own_keys_bound_and_the_defaults_when_unset()
    {
        var values = Valid();
        Assert.Equal(0, Assert.Single(Listeners(values).All, l => l.Name == "Sink").Own<DiscardListenerOptions>().CloseAfterBytes);

        values["EchoHost:Listeners:Sink:closeafterbytes"] = "4096";
        Assert.Empty(ConfigurationFailures.Of(values, Protocols));
        var set = Listeners(values);
        var sink = Assert.Single(set.All, l => l.Name == "Sink");
        Assert.Equal(4096, Assert.IsType<DiscardListenerOptions>(sink.OwnOptions).CloseAfterBytes);
        Assert.Same(sink.OwnOptions, sink.Own<DiscardListenerOptions>());

        // A protocol with no own keys reads the defaults; another protocol's class is a programming error.
        var echo = Assert.Single(set.All, l => l.Name == "Echo");
        Assert.Null(echo.OwnOptions);
        Assert.Equal(0, echo.Own<DiscardListenerOptions>().CloseAfterBytes);
        Assert.Throws<InvalidOperationException>(() => Assert.Single(set.All, l => l.Name == "Chat").Own<DiscardListenerOptions>());
    }

    [Theory]
    [InlineData("lots", "EchoHost:Listeners:Sink:CloseAfterBytes: 'lots' is not a whole number")]
    [InlineData("-1", "EchoHost:Listeners:Sink:CloseAfterBytes: must not be negative; use 0 for no limit")]
    public void A_bad_value_is_one_line_from_the_shape_check_or_the_protocol(string value, string expected) =>
        Assert.Equal(expected, Assert.Single(Failures("EchoHost:Listeners:Sink:CloseAfterBytes", value)));

    [Theory]
    [InlineData("Echo", "Echo")]
    [InlineData("Chat", "Chat")]
    [InlineData("Udp", "UdpEcho")]
    public void Another_protocols_listener_is_refused_the_key_in_one_line(string listener, string protocol) =>
        Assert.Equal(
            $"EchoHost:Listeners:{listener}:CloseAfterBytes: applies to Discard listeners only; remove it from this {protocol} listener",
            Assert.Single(Failures($"EchoHost:Listeners:{listener}:CloseAfterBytes", "10")));

    [Fact]
    public void The_plug_in_listener_is_refused_the_chats_key() =>
        Assert.Equal(
            "EchoHost:Listeners:Sink:Greeting: applies to Chat listeners only; remove it from this Discard listener",
            Assert.Single(Failures("EchoHost:Listeners:Sink:Greeting", "Minimal")));

    [Fact]
    public void Only_its_own_listeners_are_offered_the_key()
    {
        var sink = Assert.Single(Failures("EchoHost:Listeners:Sink:CloseAfter", "10"));
        var echo = Assert.Single(Failures("EchoHost:Listeners:Echo:Colour", "red"));
        var chat = Assert.Single(Failures("EchoHost:Listeners:Chat:Colour", "red"));

        Assert.StartsWith("EchoHost:Listeners:Sink:CloseAfter: unknown key; did you mean CloseAfterBytes? known keys here are ", sink);
        Assert.EndsWith(", Banner, CloseAfterBytes, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout", sink);
        Assert.DoesNotContain("Greeting", sink);
        Assert.DoesNotContain("CloseAfterBytes", echo);
        Assert.DoesNotContain("CloseAfterBytes", chat);
        Assert.EndsWith(", Banner, Greeting, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout", chat);
    }

    [Fact]
    public void A_protocol_cannot_declare_a_key_every_listener_has()
    {
        var shadowing = new ProtocolRegistration("Shadow", ListenerTransport.Tcp)
        {
            Handler = static (_, _) => throw new NotSupportedException(),
            ListenerOptions = typeof(ShadowListenerOptions),
        };

        var error = Assert.Throws<InvalidOperationException>(() => new ProtocolRegistry([shadowing]));
        Assert.Equal("The protocol 'Shadow' declares its own listener key 'Port', a key every listener has.", error.Message);
    }

    public sealed class ShadowListenerOptions
    {
        public int Port { get; set; }
    }
}
