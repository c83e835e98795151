using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary>Runs the chat core's delivery loop: what other instances did reaches the users here (a no-op on one instance).</summary>
internal sealed class ChatDeliveryPump(ChatServer chat) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await chat.RunDeliveriesAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
