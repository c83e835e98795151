using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>Counts an admitted connection as opened and active, and records its duration once it ends.</summary>
internal sealed class ConnectionMetricsMiddleware(ConnectionDelegate next, ListenerMetrics metrics)
{
    public async Task InvokeAsync(ConnectionContext connection)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        metrics.ConnectionOpened();
        try
        {
            await next(connection);
        }
        finally
        {
            metrics.ConnectionClosed(session.Duration);
        }
    }
}
