using System.Collections.Concurrent;

namespace EchoHost.Hosting;

/// <summary>
/// Where a listener that Kestrel does not run (UDP) reports that it is bound, or that binding failed. Every enabled
/// listener starts out pending; <c>GET /readyz</c> answers 200 only once all of them are bound.
/// </summary>
internal interface IListenerReadiness
{
    void MarkBound(string listener);

    void MarkFailed(string listener, string reason);
}

/// <summary>
/// Tracks whether every enabled listener is bound and the host is not shutting down. TCP listeners are Kestrel
/// endpoints: they count as bound once Kestrel has started (it binds every endpoint before the host reports started).
/// Every other listener must report through <see cref="IListenerReadiness"/>.
/// </summary>
internal sealed class ListenerReadiness(ListenerRegistry registry, IHostApplicationLifetime lifetime) : IListenerReadiness, IHostedService
{
    private const string Pending = "not bound yet";

    // Listener name → null once bound, otherwise why it is not.
    private readonly ConcurrentDictionary<string, string?> _listeners = new(
        registry.Listeners.Select(l => KeyValuePair.Create(l.Name, (string?)Pending)), StringComparer.OrdinalIgnoreCase);

    public void MarkBound(string listener) => _listeners[listener] = null;

    public void MarkFailed(string listener, string reason) => _listeners[listener] = $"failed: {reason}";

    /// <summary>Ready, or why not: shutting down, or the listeners still pending or failed.</summary>
    public (bool Ready, string Description) Check()
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return (false, "shutting down");
        }

        var waiting = _listeners.Where(l => l.Value is not null).Select(l => $"{l.Key} ({l.Value})").Order().ToList();
        return waiting.Count == 0
            ? (true, $"{_listeners.Count} listener(s) bound")
            : (false, $"waiting for {string.Join(", ", waiting)}");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var listener in registry.TcpListeners)
            {
                try
                {
                    if (registry.TcpEndPoint(listener.Name).Port != 0)
                    {
                        MarkBound(listener.Name);
                    }
                }
                catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
                {
                    MarkFailed(listener.Name, ex.Message);
                }
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
