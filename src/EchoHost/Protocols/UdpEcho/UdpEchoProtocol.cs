using EchoHost.Configuration;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// RFC 862 echo over UDP as a plug-in: <c>Protocol: UdpEcho</c>, served by a hosted service of its own (sockets, not
/// Kestrel endpoints): every datagram checked against the listener's UDP safety limits, then echoed.
/// </summary>
internal static class UdpEchoProtocol
{
    public static ProtocolRegistration Registration { get; } = new("UdpEcho", ListenerTransport.Udp);

    public static IServiceCollection AddUdpEchoProtocol(this IServiceCollection services)
    {
        services.AddProtocol(Registration);
        services.AddSingleton<UdpEchoService>();
        services.AddHostedService(sp => sp.GetRequiredService<UdpEchoService>());
        return services;
    }
}
