using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Registration;
using EchoHost.Protocols.Echo;
using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Infrastructure;

/// <summary>The protocols the real host registers, for tests that validate or compute options without a host.</summary>
internal static class TestProtocols
{
    public static ProtocolRegistry Registry { get; } =
        new ServiceCollection().AddEchoProtocol().AddChatProtocol().AddUdpEchoProtocol().BuildServiceProvider().GetRequiredService<ProtocolRegistry>();

    /// <summary>The validator the host runs, with the host's protocols.</summary>
    public static EchoHostOptionsValidator Validator() => new(Registry);
}
