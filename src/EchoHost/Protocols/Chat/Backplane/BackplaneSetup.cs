using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EchoHost.Protocols.Chat.Backplane;

internal static class BackplaneSetup
{
    /// <summary>
    /// The chat core's <see cref="IChatBus"/>: with <c>EchoHost:Chat:Postgres</c> set, the PostgreSQL backplane (also a
    /// hosted service that keeps it connected) and its metrics; otherwise the chat stays in this process
    /// (<see cref="LocalChatBus"/>). Call it before <c>AddChatCore</c>, which keeps the bus registered here.
    /// </summary>
    public static void AddChatBackplane(this IServiceCollection services, Func<IServiceProvider, ChatOptions> options)
    {
        services.AddSingleton<BackplaneMetrics>();
        services.TryAddSingleton(BackplaneTimings.Default);
        services.TryAddSingleton(BackplaneLimits.Default);
        services.AddSingleton(sp => options(sp) is { Postgres: { Length: > 0 } postgres } chat && !string.IsNullOrWhiteSpace(postgres)
            ? new ChatBackplaneHolder(ActivatorUtilities.CreateInstance<PostgresChatBackplane>(sp, chat, sp.GetRequiredService<BackplaneMetrics>()))
            : new ChatBackplaneHolder(null));
        services.AddSingleton<IChatBus>(sp => sp.GetRequiredService<ChatBackplaneHolder>().Backplane ?? (IChatBus)new LocalChatBus());
        services.AddHostedService(sp => new BackplaneService(sp.GetRequiredService<ChatBackplaneHolder>().Backplane));
    }

    /// <summary>Holds the backplane (or none) as a singleton the container disposes.</summary>
    private sealed class ChatBackplaneHolder(PostgresChatBackplane? backplane) : IDisposable
    {
        public PostgresChatBackplane? Backplane { get; } = backplane;

        public void Dispose() => Backplane?.Dispose();
    }

    /// <summary>Starts and stops the backplane, if any; the chat core pulls what it delivers whenever it starts.</summary>
    private sealed class BackplaneService(PostgresChatBackplane? backplane) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => backplane?.StartAsync(cancellationToken) ?? Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => backplane?.StopAsync(cancellationToken) ?? Task.CompletedTask;
    }
}
