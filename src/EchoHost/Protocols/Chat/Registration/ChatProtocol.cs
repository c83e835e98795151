using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Chat.Registration;

/// <summary>
/// The line chat over TCP as a plug-in: <c>Protocol: Chat</c>, its <c>EchoHost:Chat</c> section (checked by
/// <see cref="ChatOptionsValidation"/>, whose <c>IdleTimeout</c> is its listeners' default), the rooms every chat
/// listener shares, and the scale-out backplane. Its own folder: it wires the chat core to the backplane, which
/// sits under the core, so it may use both while the core knows the backplane only as an <c>IChatBus</c>.
/// </summary>
internal static class ChatProtocol
{
    public static ProtocolRegistration Registration { get; } = new("Chat", ListenerTransport.Tcp)
    {
        Section = ChatSection.Section,
        IdleTimeout = static options => options.Chat().IdleTimeout,
        ValidateOptions = static (options, failures) => ChatOptionsValidation.Validate(options.Chat(), failures),
        // The chat greets with its own welcome line, never a Banner (SendsBanner is false: the key is refused); how much
        // it says first is the chat listener's own Greeting key.
        ListenerOptions = typeof(ChatListenerOptions),
        ValidateListener = ChatListenerOptions.Validate,
        Handler = static (services, listener) => ActivatorUtilities.CreateInstance<ChatConnectionHandler>(
            services, listener, services.GetRequiredService<EchoHostMetrics>().ForListener(listener.Name, listener.ProtocolName)),
    };

    public static IServiceCollection AddChatProtocol(this IServiceCollection services)
    {
        services.AddProtocol(Registration);
        // The chat core's bus first: with EchoHost:Chat:Postgres, rooms span every instance on that database
        // (Protocols/Chat/Backplane); AddChatCore keeps it, or makes the chat this process's alone.
        services.AddChatBackplane(sp => sp.GetRequiredService<ListenerSet>().Options.Chat());
        services.AddChatCore(sp => sp.GetRequiredService<ListenerSet>().Options.Chat());
        return services;
    }
}
