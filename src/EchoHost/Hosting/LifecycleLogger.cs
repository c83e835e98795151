using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Logging;

namespace EchoHost.Hosting;

/// <summary>
/// EchoHost's own lifecycle lines: one per listener once everything is bound, and the shutdown. (Kestrel's
/// "Now listening on: http://…" is silenced in appsettings because it would call raw TCP ports http.)
/// </summary>
internal sealed partial class LifecycleLogger(
    IHostApplicationLifetime lifetime,
    ListenerSet listeners,
    ListenerEndpoints endpoints,
    StartupPhase startupPhase,
    ServerUrls serverUrls,
    ILogger<LifecycleLogger> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(OnStarted);
        lifetime.ApplicationStopping.Register(() => LogStopping(listeners.Options.ShutdownDrainDelay, listeners.Options.ShutdownTimeout));
        lifetime.ApplicationStopped.Register(LogStopped);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnStarted()
    {
        startupPhase.MarkStarted();
        foreach (var listener in listeners.All)
        {
            LogListening(listener.Name, listener.ProtocolName, endpoints.Describe(listener), listener.TransportName);
        }

        if (endpoints.HttpEndPoint is not null)
        {
            LogHttp(endpoints.DescribeHttp());
        }

        serverUrls.LogIfIgnored(logger, endpoints.DescribeHttp());
        LogStarted();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listener {Listener} ({Protocol}) listening on {EndPoint}/{Transport}")]
    private partial void LogListening(string listener, string protocol, string endPoint, string transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP endpoint listening on {EndPoint}")]
    private partial void LogHttp(string endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "EchoHost started; press Ctrl+C to stop")]
    private partial void LogStarted();

    [LoggerMessage(Level = LogLevel.Information,
        Message = "EchoHost shutting down: listeners close after the drain delay ({ShutdownDrainDelay}), then open connections are asked to close (timeout {ShutdownTimeout})")]
    private partial void LogStopping(TimeSpan shutdownDrainDelay, TimeSpan shutdownTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "EchoHost stopped")]
    private partial void LogStopped();
}
