namespace EchoHost.Configuration;

/// <summary>
/// Whether a TCP listener expects the PROXY protocol header (HAProxy's, also sent by AWS NLB, Envoy and most cloud
/// load balancers) before the client's first byte, and which version.
/// </summary>
public enum ProxyProtocolMode
{
    /// <summary>No header: the socket's peer is the client.</summary>
    Off,
    /// <summary>The text header, <c>PROXY TCP4 …\r\n</c>.</summary>
    V1,
    /// <summary>The binary header that starts with <c>\r\n\r\n\0\r\nQUIT\n</c>.</summary>
    V2,
    /// <summary>Either version, told apart by the first byte.</summary>
    Any,
}
