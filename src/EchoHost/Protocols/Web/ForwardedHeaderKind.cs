namespace EchoHost.Protocols.Web;

/// <summary>
/// Which header a Web listener reads a trusted proxy's client address from (its <c>ForwardedHeader</c> key). One only:
/// a proxy appends to the header it uses and passes the other through untouched, so a client could forge that one.
/// </summary>
public enum ForwardedHeaderKind
{
    /// <summary><c>X-Forwarded-For</c>, what HAProxy (<c>option forwardfor</c>), nginx, Traefik and cloud load balancers send.</summary>
    XForwardedFor,

    /// <summary><c>Forwarded</c> (RFC 7239), its <c>for=</c> parameters.</summary>
    Forwarded,
}
