using EchoHost.Configuration;

namespace EchoHost.Hosting;

/// <summary>
/// Lame-duck mode: on SIGTERM, keep serving for <c>EchoHost:ShutdownDrainDelay</c> while <c>/readyz</c> already says
/// 503, so load balancers that poll readiness stop sending new clients before the listeners close. Runs in the
/// host's "stopping" phase: after ApplicationStopping (when readiness turns 503) and before any service, Kestrel
/// included, is stopped.
/// </summary>
internal sealed partial class ShutdownDrain(ListenerSet listeners, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var delay = listeners.Options.ShutdownDrainDelay;
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        LogDraining(delay);
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining for {Delay}: /readyz answers 503 while listeners keep serving")]
    private partial void LogDraining(TimeSpan delay);
}
