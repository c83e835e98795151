namespace EchoHost.Hosting;

/// <summary>The one-line answer of <c>GET /</c>: what this service is and where its listeners are.</summary>
internal static class ServiceDescription
{
    public static string Text(ListenerRegistry registry)
    {
        var listeners = registry.Listeners.Select(l => $"{l.Name} ({l.ProtocolName}) on {registry.Describe(l)}/{l.TransportName}");
        return $"EchoHost on {Environment.MachineName}: {string.Join("; ", listeners)}\n";
    }
}
