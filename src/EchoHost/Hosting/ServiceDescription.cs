using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Pipeline;

namespace EchoHost.Hosting;

/// <summary>
/// The answer of <c>GET /</c>: a line saying who is answering (the machine and, when the Downward API set them, the
/// pod, namespace and node, as banners show them) and where its listeners are, with TLS and the PROXY protocol noted;
/// then a line naming this port's own endpoints, with the key that turns <c>/connections</c> on when it is off. A
/// browser gets the operator's page instead (<see cref="StatusPage"/>).
/// </summary>
internal static class ServiceDescription
{
    public static string Text(ListenerSet listeners, ListenerEndpoints endpoints)
    {
        var described = listeners.All.Select(l => $"{l.Name} ({Features(l)}) on {endpoints.Describe(l)}/{l.TransportName}");
        return $"EchoHost on {Identity()}: {string.Join("; ", described)}\n{HttpEndpoints(listeners.Http)}\n";
    }

    private static string HttpEndpoints(HttpEndpointDefinition http)
    {
        var connections = http.ConnectionsEndpoint ? "live connections, JSON" : $"off: {ConnectionsEndpoint.HowToTurnOn}";
        return $"HTTP endpoints: /metrics (Prometheus text), /healthz (liveness), /readyz (readiness), /connections ({connections}), " +
            $"{StatusPage.JsonPath} (listeners and live counts, JSON; a browser gets them as a page here)";
    }

    /// <summary>The machine, and the pod, namespace and node when the Downward API set them.</summary>
    internal static string Identity()
    {
        string[] kubernetes = [ServiceIdentity.Pod, ServiceIdentity.Namespace, ServiceIdentity.Node];
        return kubernetes.All(value => value == ServiceIdentity.Unknown)
            ? ServiceIdentity.Host
            : $"{ServiceIdentity.Host} (pod {kubernetes[0]}, namespace {kubernetes[1]}, node {kubernetes[2]})";
    }

    /// <summary>The protocol, then TLS and the PROXY protocol when on: <c>echo, TLS</c>.</summary>
    internal static string Features(ListenerDefinition listener) => string.Join(", ", new[]
    {
        listener.ProtocolName,
        listener.Tls is null ? null : "TLS",
        listener.ProxyProtocol == ProxyProtocolMode.Off ? null : $"PROXY protocol {listener.ProxyProtocol}",
    }.OfType<string>());
}
