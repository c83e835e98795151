using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

public sealed class ProtocolRegistryTests
{
    private static ProtocolRegistration Tcp(string name) => new(name, ListenerTransport.Tcp) { Handler = static (_, _) => null! };

    [Fact]
    public void The_host_registers_echo_chat_and_udp_echo_in_that_order() =>
        Assert.Equal("Echo, Chat, Irc, Web, UdpEcho", TestProtocols.Registry.Names);

    [Theory]
    [InlineData("echo", "Echo")]
    [InlineData(" CHAT ", "Chat")]
    [InlineData("udpecho", "UdpEcho")]
    public void A_name_is_found_in_any_case_with_spaces_around(string text, string name)
    {
        Assert.True(TestProtocols.Registry.TryFind(text, out var protocol));
        Assert.Equal(name, protocol.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("Echo,Chat")]
    [InlineData("Gopher")]
    public void Anything_else_is_not_a_protocol(string? text) => Assert.False(TestProtocols.Registry.TryFind(text, out _));

    [Fact]
    public void Two_protocols_of_one_name_fail_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ProtocolRegistry([Tcp("Echo"), Tcp("ECHO")]));
        Assert.Equal("Two protocols are registered as 'ECHO'.", error.Message);
    }

    [Fact]
    public void A_tcp_protocol_without_a_handler_fails_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ProtocolRegistry([new ProtocolRegistration("Quiet", ListenerTransport.Tcp)]));
        Assert.Equal("The TCP protocol 'Quiet' must register a handler or an HTTP application, one of them.", error.Message);
    }

    [Fact]
    public void Registering_adds_one_registry_for_every_protocol()
    {
        var services = new ServiceCollection().AddProtocol(Tcp("One")).AddProtocol(new ProtocolRegistration("Two", ListenerTransport.Udp));
        using var provider = services.BuildServiceProvider();

        Assert.Equal("One, Two", provider.GetRequiredService<ProtocolRegistry>().Names);
        Assert.Single(services, d => d.ServiceType == typeof(ProtocolRegistry));
    }
}
