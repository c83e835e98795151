using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Pipeline;

/// <summary>Whether a peer may send the PROXY header: one of the listener's <see cref="TrustedProxies"/>.</summary>
internal static class TrustedProxyMatch
{
    /// <summary>IPv4 clients of a dual-stack socket (<c>::ffff:a.b.c.d</c>) match IPv4 ranges.</summary>
    public static bool Contains(this TrustedProxies proxies, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var networks = proxies.Networks;
        for (var i = 0; i < networks.Count; i++)
        {
            if (networks[i].Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
