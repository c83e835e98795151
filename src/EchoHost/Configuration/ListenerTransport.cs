namespace EchoHost.Configuration;

/// <summary>
/// What carries a listener's protocol. TCP: a Kestrel endpoint running the shared connection pipeline, then the
/// protocol's <see cref="Microsoft.AspNetCore.Connections.ConnectionHandler"/>. UDP: a hosted service the protocol
/// registers itself. A new transport (WebSocket over HTTP) is a new value here and the hosting code that serves it.
/// </summary>
public enum ListenerTransport
{
    Tcp,
    Udp,
}
