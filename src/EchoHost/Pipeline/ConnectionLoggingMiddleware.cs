using System.Net;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// The access log: one line per connection at Information, written when it has ended — who, why, how long, how many
/// bytes — as HAProxy and nginx log a connection or request once it is done. The line when a connection is admitted
/// is Debug: a second line per connection at Information cost a sixth of a short connection's CPU (docs/performance.md,
/// What was tried), and what is open now is on <c>/connections</c> and in the metrics. The closing line is
/// written once Kestrel reports the connection complete, so every other middleware (limits, metrics,
/// <c>/connections</c>) has finished with it by the time the line appears.
/// </summary>
internal sealed partial class ConnectionLoggingMiddleware(ConnectionDelegate next, ListenerDefinition listener, ILogger logger)
{
    private Func<object, Task>? _ended;

    public Task InvokeAsync(ConnectionContext connection)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        LogAccepted(listener.Name, session.ConnectionId, session.RemoteEndPoint);
        _ended ??= state =>
        {
            LogEnded((ConnectionSession)state);
            return Task.CompletedTask;
        };
        return next.ThenOnEnd(connection, _ended, session);
    }

    private void LogEnded(ConnectionSession session) => LogClosed(
        listener.Name, session.ConnectionId, session.RemoteEndPoint, session.EndReason.Describe(), session.Duration.TotalSeconds, session.BytesIn, session.BytesOut);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} connection {ConnectionId} accepted from {RemoteEndPoint}")]
    private partial void LogAccepted(string listener, string connectionId, IPEndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint} closed ({Reason}) after {DurationSeconds:0.000}s, {BytesIn} bytes in, {BytesOut} bytes out")]
    private partial void LogClosed(string listener, string connectionId, IPEndPoint? remoteEndPoint, string reason, double durationSeconds, long bytesIn, long bytesOut);
}
