using System.Net;
using System.Net.WebSockets;
using EchoHost.Pipeline;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Protocols.Web;

/// <summary>
/// What a line handler (chat, IRC) sees of a WebSocket: a connection whose transport is a
/// <see cref="WebSocketLineBridge"/>, with the HTTP connection's <see cref="ConnectionSession"/> as its close signal,
/// close path and details, exactly as on a TCP listener. So <c>/connections</c> shows the nick and room, a shutdown or
/// idle timeout stops the handler, and a slow reader's close request starts the same close grace.
/// </summary>
internal sealed class WebSocketLineConnection : ConnectionContext
{
    private readonly WebSocket _socket;

    public WebSocketLineConnection(HttpContext context, ConnectionSession session, WebSocket socket, IDuplexPipe transport)
    {
        _socket = socket;
        ConnectionId = session.ConnectionId;
        Transport = transport;
        LocalEndPoint = context.Connection.LocalIpAddress is { } local ? new IPEndPoint(local, context.Connection.LocalPort) : null;
        // As the pipeline saw it, after the PROXY protocol; the handlers read it from the session too.
        RemoteEndPoint = session.RemoteEndPoint;
        Features.Set(session);
        Features.Set<IConnectionLifetimeNotificationFeature>(session);
        Features.Set<IConnectionCloseFeature>(session);
        Features.Set<IConnectionDetailsFeature>(session);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override void Abort(ConnectionAbortedException abortReason) => _socket.Abort();
}
