global using EchoHost.Protocols.Chat.Core;
using EchoHost.Configuration;

namespace EchoHost.Protocols.Chat;

internal static class ChatCoreServices
{
    /// <summary>
    /// The chat every chat listener shares: its core (<see cref="ChatServer"/>) over one <see cref="IChatBus"/> — the
    /// PostgreSQL backplane with <c>EchoHost:Chat:Postgres</c>, this process only otherwise — the loop that delivers
    /// what other instances did, and the line protocol's renderer. <paramref name="backplane"/> is the configured
    /// PostgreSQL backplane, if any (Backplane/BackplaneSetup registers it).
    /// </summary>
    public static IServiceCollection AddChatCore(
        this IServiceCollection services, Func<IServiceProvider, ChatOptions> options, Func<IServiceProvider, IChatBackplane?> backplane)
    {
        services.AddSingleton(sp => new ChatLineRenderer(options(sp)));
        services.AddSingleton<IChatBus>(sp => backplane(sp) is { } shared
            ? new ChatBackplaneBus(shared, sp.GetRequiredService<ChatLineRenderer>())
            : new LocalChatBus());
        services.AddSingleton(sp => new ChatServer(
            options(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(ChatActivityLog.Category),
            sp.GetRequiredService<IChatBus>()));
        services.AddHostedService<ChatDeliveryPump>();
        return services;
    }
}
