using EchoHost.Configuration;

namespace EchoHost.Protocols.Web;

/// <summary>
/// Browsers and other HTTP clients: <c>Protocol: Web</c>. A Web listener runs the connection pipeline (PROXY
/// protocol, caps, TLS, access log, metrics, idle timeout) and then HTTP/1.1, with the chat page, WebSocket echo, chat
/// and IRC, and an HTTP echo (<see cref="WebRoutes"/>); its own keys are <see cref="WebListenerOptions"/>.
/// </summary>
internal static class WebProtocol
{
    public static ProtocolRegistration Registration { get; } = new("Web", ListenerTransport.Tcp)
    {
        ListenerOptions = typeof(WebListenerOptions),
        ValidateListener = WebListenerOptions.Validate,
        HttpApplication = WebRoutes.Build,
    };

    /// <summary>Adds the Web listener protocol; its chat and IRC paths join the chat core that <c>AddChatProtocol</c> adds.</summary>
    public static IServiceCollection AddWebProtocol(this IServiceCollection services) => services.AddProtocol(Registration);
}
