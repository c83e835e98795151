using EchoHost.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EchoHost.Protocols.Chat.Backplane;

internal static class BackplaneSetup
{
    /// <summary>
    /// With <c>EchoHost:Chat:Postgres</c> set: the PostgreSQL backplane (an <see cref="IChatBackplane"/> for the chat
    /// server, and a hosted service that keeps it connected) and its metrics. Otherwise nothing: the chat stays in
    /// this process.
    /// </summary>
    public static void AddChatBackplane(this IServiceCollection services, Func<IServiceProvider, ChatOptions> options)
    {
        services.AddSingleton<BackplaneMetrics>();
        services.TryAddSingleton(BackplaneTimings.Default);
        services.TryAddSingleton(BackplaneLimits.Default);
        services.AddSingleton(sp => options(sp) is { Postgres: { Length: > 0 } postgres } chat && !string.IsNullOrWhiteSpace(postgres)
            ? new ChatBackplaneHolder(ActivatorUtilities.CreateInstance<PostgresChatBackplane>(sp, chat, sp.GetRequiredService<BackplaneMetrics>()))
            : new ChatBackplaneHolder(null));
        services.AddHostedService(sp => new BackplaneService(sp.GetRequiredService<ChatBackplaneHolder>().Backplane, sp.GetRequiredService<ChatServer>));
    }

    /// <summary>The configured backplane, if any, for the chat server.</summary>
    public static IChatBackplane? ChatBackplane(this IServiceProvider services) => services.GetRequiredService<ChatBackplaneHolder>().Backplane;

    /// <summary>Holds the backplane (or none) as a singleton the container disposes.</summary>
    private sealed class ChatBackplaneHolder(PostgresChatBackplane? backplane) : IDisposable
    {
        public PostgresChatBackplane? Backplane { get; } = backplane;

        public void Dispose() => Backplane?.Dispose();
    }

    /// <summary>Starts and stops the backplane, if any, with the chat server created (and attached) first.</summary>
    private sealed class BackplaneService(PostgresChatBackplane? backplane, Func<ChatServer> chat) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (backplane is null)
            {
                return Task.CompletedTask;
            }

            _ = chat();
            return backplane.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => backplane?.StopAsync(cancellationToken) ?? Task.CompletedTask;
    }
}
