using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;

namespace EchoHost.Health;

/// <summary>
/// A listener (or, with no listener, the HTTP endpoint) could not bind: carries what the one start-up line needs —
/// which listener, which endpoint, why — for TCP and UDP alike. An <see cref="IOException"/>, as Kestrel's own bind
/// failures are, so Kestrel's IPv6-to-IPv4 fallback never retries a port that is taken.
/// </summary>
internal sealed class ListenerBindException(ListenerDefinition? listener, IPEndPoint endPoint, string transport, SocketError error, Exception inner)
    : IOException($"Failed to bind {(listener is null ? "the HTTP endpoint" : $"listener '{listener.Name}'")} to {endPoint}/{transport}: {inner.Message}", inner)
{
    /// <summary>The listener that failed; null for the HTTP endpoint.</summary>
    public ListenerDefinition? Listener => listener;

    public IPEndPoint EndPoint => endPoint;

    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    public string Transport => transport;

    public SocketError SocketErrorCode => error;

    /// <summary>Failures that are about the port, not the address family: binding the other family will not help.</summary>
    public static bool IsAboutThePort(SocketError error) => error is SocketError.AddressAlreadyInUse or SocketError.AccessDenied;
}
