using EchoHost.Configuration;

namespace EchoHost.Protocols.Echo;

/// <summary>RFC 862 echo over TCP as a plug-in: <c>Protocol: Echo</c>, no section of its own, the shared limits and the banner.</summary>
internal static class EchoProtocol
{
    public static ProtocolRegistration Registration { get; } = new("Echo", ListenerTransport.Tcp)
    {
        SendsBanner = true,
        RunsOnSocketThreads = true,
        Handler = static (_, listener) => new EchoConnectionHandler(listener),
    };

    public static IServiceCollection AddEchoProtocol(this IServiceCollection services) => services.AddProtocol(Registration);
}
