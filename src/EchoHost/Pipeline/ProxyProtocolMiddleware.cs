using System.Net;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>Why a connection got no further than the PROXY protocol header, as the <c>reason</c> tag of refusals.</summary>
internal static class ProxyProtocolRefusals
{
    public const string Untrusted = "proxy_untrusted";
    public const string Invalid = "proxy_header_invalid";
    public const string Timeout = "proxy_header_timeout";

    public static IReadOnlyList<string> TagValues { get; } = [Untrusted, Invalid, Timeout];
}

/// <summary>What the PROXY protocol header said, for whoever wants the proxy's side of the story.</summary>
internal sealed record ProxyProtocolFeature(int Version, IPEndPoint? ProxyEndPoint, IPEndPoint? Destination, bool IsLocal);

/// <summary>
/// Before anything else sees a connection: only a trusted proxy may connect; its PROXY protocol header is read
/// (within <c>ProxyProtocolTimeout</c>) and the client address it carries becomes the connection's remote endpoint,
/// so the session, limits, logs, <c>/connections</c>, metrics and the protocol handler all see the real client. A
/// header from a proxy's own health check (<c>LOCAL</c>) keeps the proxy's address. Anything else — an untrusted
/// peer, a missing, malformed, oversized or late header — is logged and counted, and the connection closed.
/// </summary>
internal sealed partial class ProxyProtocolMiddleware(ConnectionDelegate next, ListenerDefinition listener, ListenerMetrics metrics, ILogger logger)
{
    public async Task InvokeAsync(ConnectionContext connection)
    {
        var proxy = Normalize(connection.RemoteEndPoint as IPEndPoint);
        if (!listener.TrustedProxies.Contains(proxy?.Address))
        {
            metrics.ConnectionRefused(ProxyProtocolRefusals.Untrusted);
            LogUntrusted(listener.Name, connection.ConnectionId, proxy);
            return;
        }

        var header = await ReadHeaderAsync(connection, proxy, SocketThreadConnection.Of(connection));
        if (header is not { } read)
        {
            return;
        }

        connection.Features.Set(new ProxyProtocolFeature(read.Version, proxy, read.Destination, read.IsLocal));
        if (read.Source is { } client)
        {
            // Kestrel's connection keeps one endpoint for ConnectionContext and IConnectionEndPointFeature alike.
            connection.RemoteEndPoint = client;
            if (connection.Features.Get<IConnectionEndPointFeature>() is { } endPoints && !ReferenceEquals(endPoints, connection))
            {
                endPoints.RemoteEndPoint = client;
            }
        }

        LogHeader(listener.Name, connection.ConnectionId, read.Version, proxy, read.IsLocal ? "LOCAL" : read.Source?.ToString());
        await next(connection);
    }

    private async Task<ProxyHeader?> ReadHeaderAsync(ConnectionContext connection, IPEndPoint? proxy, bool onSocketThreads)
    {
        var input = connection.Transport.Input;
        var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        timeout.CancelAfter(listener.ProxyProtocolTimeout);
        var received = 0L;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                // The header may come on the socket engine's thread (an echo listener's): parsing it, a refusal's log
                // line and the whole pipeline after it run on the thread pool, as they do without the PROXY protocol.
                // Awaited here, not in a helper: the pool may finish a helper before this method checks it, which
                // would then go on where it was.
                if (SocketThreadConnection.MustLeave(onSocketThreads))
                {
                    await Task.Yield();
                }
                var buffer = result.Buffer;
                received = buffer.Length;
                var status = ProxyProtocolParser.TryParse(buffer, listener.ProxyProtocol, out var header, out var error);
                switch (status)
                {
                    case ProxyParseStatus.Complete:
                        input.AdvanceTo(buffer.GetPosition(header.Length));
                        return header;
                    case ProxyParseStatus.Invalid:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        return Refuse(connection, proxy, error);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return Refuse(connection, proxy, received == 0
                        ? "the connection closed before any PROXY header byte arrived"
                        : $"the connection closed after {received} bytes of an incomplete PROXY header");
                }
            }
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            metrics.ConnectionRefused(ProxyProtocolRefusals.Timeout);
            LogTimeout(listener.Name, connection.ConnectionId, proxy, listener.ProxyProtocolTimeout, received);
            return null;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
        {
            if (SocketThreadConnection.MustLeave(onSocketThreads))
            {
                await Task.Yield();
            }

            // Shutdown, or the proxy reset the connection: nothing was served, nothing to say above Debug.
            LogGone(listener.Name, connection.ConnectionId, proxy, ex.GetType().Name);
            return null;
        }
    }

    private ProxyHeader? Refuse(ConnectionContext connection, IPEndPoint? proxy, string reason)
    {
        metrics.ConnectionRefused(ProxyProtocolRefusals.Invalid);
        LogInvalid(listener.Name, connection.ConnectionId, proxy, reason);
        return null;
    }

    private static IPEndPoint? Normalize(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused connection {ConnectionId} from {RemoteEndPoint}: not a trusted proxy (TrustedProxies), and this listener expects the PROXY protocol")]
    private partial void LogUntrusted(string listener, string connectionId, IPEndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} closed connection {ConnectionId} from proxy {ProxyEndPoint}: bad PROXY protocol header: {Reason}")]
    private partial void LogInvalid(string listener, string connectionId, IPEndPoint? proxyEndPoint, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} closed connection {ConnectionId} from proxy {ProxyEndPoint}: no complete PROXY protocol header within {Timeout} ({Received} bytes received)")]
    private partial void LogTimeout(string listener, string connectionId, IPEndPoint? proxyEndPoint, TimeSpan timeout, long received);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Listener} connection {ConnectionId} from proxy {ProxyEndPoint} ended while its PROXY header was read ({ErrorType})")]
    private partial void LogGone(string listener, string connectionId, IPEndPoint? proxyEndPoint, string errorType);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Listener} connection {ConnectionId}: PROXY v{Version} header from {ProxyEndPoint}: client {Client}")]
    private partial void LogHeader(string listener, string connectionId, int version, IPEndPoint? proxyEndPoint, string? client);
}
