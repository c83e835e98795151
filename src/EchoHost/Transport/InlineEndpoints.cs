using System.Net;

namespace EchoHost.Transport;

/// <summary>
/// The endpoints whose listeners run their handlers on the socket engine's thread, as the listener setup marks them
/// before Kestrel binds. An endpoint Kestrel binds as configured is known by its object; one it derives
/// (<c>localhost</c> becomes 127.0.0.1 and [::1], <c>*</c> becomes [::] or 0.0.0.0) by its address and port, which
/// such an endpoint always has (Kestrel refuses port 0 with <c>localhost</c>; with <c>*</c> and port 0 the endpoint
/// keeps Kestrel's own transport, since nothing tells it apart).
/// </summary>
internal sealed class InlineEndpoints
{
    private readonly HashSet<EndPoint> _configured = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<IPEndPoint> _derived = [];
    private readonly Lock _lock = new();

    /// <summary>An endpoint Kestrel binds as it is.</summary>
    public void Add(EndPoint configured)
    {
        lock (_lock)
        {
            _configured.Add(configured);
        }
    }

    /// <summary>The endpoints Kestrel may derive for a port: <paramref name="addresses"/> with that port.</summary>
    public void AddDerived(int port, params IPAddress[] addresses)
    {
        if (port == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var address in addresses)
            {
                _derived.Add(new IPEndPoint(address, port));
            }
        }
    }

    public bool Contains(EndPoint endPoint)
    {
        lock (_lock)
        {
            return _configured.Contains(endPoint) || (endPoint is IPEndPoint ip && _derived.Contains(ip));
        }
    }
}
