using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EchoHost.Protocols.Chat;

internal static class ChatCoreServices
{
    /// <summary>
    /// The chat every chat listener shares: its core (<see cref="ChatServer"/>) over one <see cref="IChatBus"/> — the
    /// one registered already (the PostgreSQL backplane's, Backplane/BackplaneSetup), this process only otherwise —
    /// the loop that delivers what other instances did, and the line protocol's renderer.
    /// </summary>
    public static IServiceCollection AddChatCore(this IServiceCollection services, Func<IServiceProvider, ChatOptions> options)
    {
        services.AddSingleton(sp => new ChatLineRenderer(options(sp)));
        services.TryAddSingleton<IChatBus, LocalChatBus>();
        services.AddSingleton(sp => new ChatServer(
            options(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(ChatActivityLog.Category),
            sp.GetRequiredService<IChatBus>(), new ChatRoomCounts()));
        services.AddHostedService<ChatDeliveryPump>();
        return services;
    }
}
