using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// IRC as a second way into the chat: <c>Protocol: Irc</c>. Its users join the same chat core as line users (rooms,
/// nicks, history, and every instance through the chat's bus), which the chat's registration sets up; its listeners'
/// idle timeout defaults to the chat's, and its own keys are <see cref="IrcListenerOptions"/>.
/// </summary>
internal static class IrcProtocol
{
    public static ProtocolRegistration Registration { get; } = new("Irc", ListenerTransport.Tcp)
    {
        IdleTimeout = static options => options.Chat().IdleTimeout,
        ListenerOptions = typeof(IrcListenerOptions),
        ValidateListener = IrcListenerOptions.Validate,
        Handler = static (services, listener) => ActivatorUtilities.CreateInstance<IrcConnectionHandler>(
            services, listener, services.GetRequiredService<EchoHostMetrics>().ForListener(listener.Name, listener.ProtocolName)),
    };

    /// <summary>Adds the IRC listener protocol; the chat core it joins comes with <c>AddChatProtocol</c>.</summary>
    public static IServiceCollection AddIrcProtocol(this IServiceCollection services) => services.AddProtocol(Registration);
}
