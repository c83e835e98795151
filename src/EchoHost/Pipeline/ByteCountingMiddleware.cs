using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Puts a <see cref="CountingDuplexPipe"/> in front of the transport while the handler runs, so the session's byte
/// counts and activity clock, and the listener's byte counters, move without any handler's help.
/// </summary>
internal sealed class ByteCountingMiddleware(ConnectionDelegate next, ListenerMetrics metrics, ILogger logger)
{
    public async Task InvokeAsync(ConnectionContext connection)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        var transport = connection.Transport;
        connection.Transport = new CountingDuplexPipe(transport, session, logger, metrics);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
        }
    }
}
