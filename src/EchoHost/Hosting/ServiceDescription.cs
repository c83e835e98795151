using EchoHost.Configuration;
using EchoHost.Health;

namespace EchoHost.Hosting;

/// <summary>
/// The one-line answer of <c>GET /</c>: who is answering (the machine and, when the Downward API set them, the pod,
/// namespace and node, as banners show them) and where its listeners are, with TLS and the PROXY protocol noted.
/// </summary>
internal static class ServiceDescription
{
    public static string Text(ListenerSet listeners, ListenerEndpoints endpoints)
    {
        var described = listeners.All.Select(l => $"{l.Name} ({Features(l)}) on {endpoints.Describe(l)}/{l.TransportName}");
        return $"EchoHost on {Identity()}: {string.Join("; ", described)}\n";
    }

    private static string Identity()
    {
        string[] kubernetes = [ServiceIdentity.Pod, ServiceIdentity.Namespace, ServiceIdentity.Node];
        return kubernetes.All(value => value == ServiceIdentity.Unknown)
            ? ServiceIdentity.Host
            : $"{ServiceIdentity.Host} (pod {kubernetes[0]}, namespace {kubernetes[1]}, node {kubernetes[2]})";
    }

    private static string Features(ListenerDefinition listener) => string.Join(", ", new[]
    {
        listener.ProtocolName,
        listener.Tls is null ? null : "TLS",
        listener.ProxyProtocol == ProxyProtocolMode.Off ? null : $"PROXY protocol {listener.ProxyProtocol}",
    }.OfType<string>());
}
