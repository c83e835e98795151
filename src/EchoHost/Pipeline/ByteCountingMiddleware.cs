using EchoHost.Telemetry;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// Puts a <see cref="CountingDuplexPipe"/> in front of the transport while the handler runs, so the session's byte
/// counts and activity clock, and the listener's byte counters, move without any handler's help. The wrapper stays:
/// nothing after the handler reads the transport.
/// </summary>
/// <remarks>
/// On a connection whose handler runs on the socket engine's thread (<see cref="SocketThreadConnection"/>), the
/// counting reader also keeps the handler's turns short (<see cref="SocketThreadBudget"/>).
/// </remarks>
internal sealed class ByteCountingMiddleware(ConnectionDelegate next, ListenerMetrics metrics, ILogger logger)
{
    public Task InvokeAsync(ConnectionContext connection)
    {
        // Kestrel completes and disposes the transport it created, whatever Transport says by then.
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        var budgeted = SocketThreadConnection.Of(connection);
        connection.Transport = new CountingDuplexPipe(connection.Transport, session, logger, metrics, budgeted);
        return next(connection);
    }
}
