using System.Net;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Connections;

/// <summary>
/// Runs around every connection of one listener, before its protocol handler: the logging scope, the connection
/// limits, byte counting, the idle timeout, the shutdown signal, the listener's metrics and the registry of open
/// connections. Handlers hold protocol logic only.
/// </summary>
internal sealed partial class ListenerConnectionMiddleware(
    ConnectionDelegate next,
    ListenerDefinition listener,
    ConnectionLimiter limiter,
    ListenerMetrics metrics,
    ConnectionRegistry connections,
    ILogger logger)
{
    public async Task InvokeAsync(ConnectionContext connection)
    {
        var remote = Normalize(connection.RemoteEndPoint as IPEndPoint);
        using var scope = logger.BeginScope(new ConnectionLogScope(connection.ConnectionId, listener.Name, remote));

        var refusal = limiter.TryAcquire(remote?.Address);
        if (refusal != LimitRefusal.None)
        {
            // Returning without touching the transport makes Kestrel close the connection at once.
            metrics.ConnectionRefused(refusal);
            LogRefused(refusal, remote);
            return;
        }

        var session = new ConnectionSession(connection.ConnectionId, listener, remote);
        var kestrelLifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var shutdown = kestrelLifetime?.ConnectionClosedRequested.Register(
            static state => ((ConnectionSession)state!).RequestClose(CloseReason.Shutdown), session) ?? default;
        connection.Features.Set<IConnectionLifetimeNotificationFeature>(session);
        connection.Features.Set(session);
        connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(
            static state => ((HeartbeatState)state).Tick(), new HeartbeatState(session, connection, this));

        var transport = connection.Transport;
        connection.Transport = new CountingDuplexPipe(transport, session, logger, metrics);
        LogAccepted(listener.Name, connection.ConnectionId, remote);

        var reset = false;
        connections.Add(session);
        metrics.ConnectionOpened();
        try
        {
            await next(connection);
        }
        catch (Exception ex) when (IsDisconnect(ex, session))
        {
            reset = ex is ConnectionResetException or IOException;
            LogTransportError(ex.GetType().Name, ex.Message);
        }
        finally
        {
            connection.Transport = transport;
            limiter.Release(remote?.Address);
            connections.Remove(session);
            metrics.ConnectionClosed(session.Duration);
            var reason = session.CloseRequestReason
                ?? (reset ? CloseReason.ClientReset : session.InputCompleted ? CloseReason.ClientClosed : CloseReason.ServerClosed);
            LogClosed(listener.Name, connection.ConnectionId, remote, reason.Describe(), session.Duration.TotalSeconds, session.BytesIn, session.BytesOut);
        }
    }

    /// <summary>Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; count them as the IPv4 address they are.</summary>
    private static IPEndPoint? Normalize(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>Errors that only mean the peer went away or the close we requested took effect.</summary>
    private static bool IsDisconnect(Exception ex, ConnectionSession session) => ex switch
    {
        ConnectionResetException or ConnectionAbortedException or IOException => true,
        OperationCanceledException => session.CloseRequestReason is not null,
        _ => false,
    };

    private void OnIdleTimeout(ConnectionSession session)
    {
        metrics.IdleTimeout();
        LogIdleTimeout(listener.Name, session.ConnectionId, session.RemoteEndPoint, listener.IdleTimeout);
    }

    private void LogRefused(LimitRefusal refusal, IPEndPoint? remote)
    {
        if (refusal == LimitRefusal.PerIp)
        {
            LogRefusedPerIp(listener.Name, remote, listener.MaxConnectionsPerIp);
        }
        else
        {
            LogRefusedMaxConnections(listener.Name, remote, listener.MaxConnections);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} connection {ConnectionId} accepted from {RemoteEndPoint}")]
    private partial void LogAccepted(string listener, string connectionId, IPEndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint} closed ({Reason}) after {DurationSeconds:0.000}s, {BytesIn} bytes in, {BytesOut} bytes out")]
    private partial void LogClosed(string listener, string connectionId, IPEndPoint? remoteEndPoint, string reason, double durationSeconds, long bytesIn, long bytesOut);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: per-IP limit reached (MaxConnectionsPerIp = {Limit})")]
    private partial void LogRefusedPerIp(string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: connection limit reached (MaxConnections = {Limit})")]
    private partial void LogRefusedMaxConnections(string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint} idle for {IdleTimeout}; closing (idle timeout)")]
    private partial void LogIdleTimeout(string listener, string connectionId, IPEndPoint? remoteEndPoint, TimeSpan idleTimeout);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Listener} connection {ConnectionId} did not finish within {Grace} of a close request; aborting")]
    private partial void LogAborting(string listener, string connectionId, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Debug, Message = "transport ended with {ErrorType}: {ErrorMessage}")]
    private partial void LogTransportError(string errorType, string errorMessage);

    private sealed class HeartbeatState(ConnectionSession session, ConnectionContext connection, ListenerConnectionMiddleware owner)
    {
        public void Tick()
        {
            switch (session.OnHeartbeat(Environment.TickCount64))
            {
                case HeartbeatAction.IdleTimedOut:
                    owner.OnIdleTimeout(session);
                    break;
                case HeartbeatAction.Abort:
                    owner.LogAborting(session.Listener.Name, session.ConnectionId, ConnectionSession.CloseGrace);
                    connection.Abort(new ConnectionAbortedException($"The connection did not close within {ConnectionSession.CloseGrace} of a close request."));
                    break;
            }
        }
    }
}
