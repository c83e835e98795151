using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Protocols.Web;

/// <summary>Who answered: the values of the banner placeholders <c>{host}</c>, <c>{pod}</c>, <c>{namespace}</c>, <c>{node}</c>, <c>{listener}</c>, <c>{local}</c>.</summary>
internal sealed record HttpEchoServer(string Host, string Pod, string Namespace, string Node, string Listener, string? Local)
{
    public static HttpEchoServer Of(HttpContext context, string listener) => new(
        ServiceIdentity.Host, ServiceIdentity.Pod, ServiceIdentity.Namespace, ServiceIdentity.Node, listener,
        context.Connection.LocalIpAddress is { } local ? new IPEndPoint(Normalize(local), context.Connection.LocalPort).ToString() : null);

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
