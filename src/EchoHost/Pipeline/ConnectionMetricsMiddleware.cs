using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Counts an admitted connection as opened and active until it ends, and tags Kestrel's own measurement of it with
/// the listener: Kestrel reads <see cref="IConnectionMetricsTagsFeature"/> when the connection ends and adds its tags
/// to <c>kestrel.connection.duration</c> (not to <c>kestrel.active_connections</c>, whose tags are fixed at the start).
/// Connections refused by the limits never get here, so they stay untagged.
/// </summary>
internal sealed class ConnectionMetricsMiddleware(ConnectionDelegate next, ListenerMetrics metrics)
{
    private static readonly Func<object, Task> Closed = static metrics =>
    {
        ((ListenerMetrics)metrics).ConnectionClosed();
        return Task.CompletedTask;
    };

    public Task InvokeAsync(ConnectionContext connection)
    {
        // Absent while nothing listens to Kestrel's duration histogram.
        if (connection.Features.Get<IConnectionMetricsTagsFeature>() is { } kestrelTags)
        {
            metrics.TagConnection(kestrelTags.Tags);
        }

        metrics.ConnectionOpened();
        return next.ThenOnEnd(connection, Closed, metrics);
    }
}
