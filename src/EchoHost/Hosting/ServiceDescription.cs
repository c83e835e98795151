using EchoHost.Configuration;
using EchoHost.Health;

namespace EchoHost.Hosting;

/// <summary>The one-line answer of <c>GET /</c>: what this service is and where its listeners are.</summary>
internal static class ServiceDescription
{
    public static string Text(ListenerSet listeners, ListenerEndpoints endpoints)
    {
        var described = listeners.All.Select(l => $"{l.Name} ({l.ProtocolName}) on {endpoints.Describe(l)}/{l.TransportName}");
        return $"EchoHost on {Environment.MachineName}: {string.Join("; ", described)}\n";
    }
}
