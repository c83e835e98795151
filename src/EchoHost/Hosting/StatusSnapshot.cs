using System.Globalization;
using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Telemetry;

namespace EchoHost.Hosting;

/// <summary>
/// What the operator's page shows, and <c>GET /status.json</c> answers: who is answering, every configured listener
/// (disabled ones too) with its protocol, address, state and live counts, and the HTTP endpoints. Listener
/// configuration and aggregate counts only: never a client address, a certificate path or a password.
/// </summary>
internal sealed record StatusSnapshot(string Service, bool Ready, string Readiness, IReadOnlyList<ListenerStatus> Listeners, HttpLinks Links)
{
    // The instruments each count comes from (Telemetry/ListenerReadings reads them by listener). A listener that has
    // no such series (UDP has no connections, echo no chat users) shows no value rather than a zero.
    private const string ConnectionsActive = "echohost.connections.active";
    private const string TcpBytesIn = "echohost.io.received";
    private const string TcpBytesOut = "echohost.io.sent";
    private const string UdpBytesIn = "echohost.udp.io.received";
    private const string UdpBytesOut = "echohost.udp.io.sent";
    private const string DatagramsIn = "echohost.udp.datagrams.received";
    private const string DatagramsOut = "echohost.udp.datagrams.sent";
    private const string ChatUsers = "echohost.chat.users";

    public static StatusSnapshot Of(ListenerSet listeners, ListenerEndpoints endpoints, ListenerReadings readings)
    {
        var counts = readings.Read();
        var enabled = listeners.All.ToDictionary(l => l.Name, StringComparer.OrdinalIgnoreCase);
        var rows = new List<ListenerStatus>();
        foreach (var (name, options) in listeners.Options.Listeners)
        {
            rows.Add(enabled.TryGetValue(name, out var listener)
                ? Enabled(listener, endpoints, counts.GetValueOrDefault(listener.Name))
                : Disabled(name, options, listeners.Options));
        }

        var (ready, readiness) = endpoints.Readiness();
        return new StatusSnapshot(ServiceDescription.Identity(), ready, readiness, rows, new HttpLinks(listeners.Http.ConnectionsEndpoint));
    }

    private static ListenerStatus Enabled(ListenerDefinition listener, ListenerEndpoints endpoints, Dictionary<string, long>? counts)
    {
        var (state, address, detail) = Bind(listener, endpoints);
        return new ListenerStatus(listener.Name, listener.ProtocolName, listener.TransportName, address, state, detail)
        {
            Tls = listener.Tls is not null,
            ProxyProtocol = listener.ProxyProtocol == ProxyProtocolMode.Off ? null : listener.ProxyProtocol.ToString(),
            Connections = Count(counts, ConnectionsActive),
            BytesIn = Count(counts, TcpBytesIn) ?? Count(counts, UdpBytesIn),
            BytesOut = Count(counts, TcpBytesOut) ?? Count(counts, UdpBytesOut),
            DatagramsIn = Count(counts, DatagramsIn),
            DatagramsOut = Count(counts, DatagramsOut),
            ChatUsers = Count(counts, ChatUsers),
        };
    }

    private static (string State, string Address, string? Detail) Bind(ListenerDefinition listener, ListenerEndpoints endpoints)
    {
        var asked = $"{Describe(listener.Address)}:{listener.Port.ToString(CultureInfo.InvariantCulture)}";
        return endpoints.Status(listener) switch
        {
            { Bound: { } bound } => (ListenerStatus.Bound, bound, null),
            { Failed: true, Problem: var problem } => (ListenerStatus.Failed, asked, $"Listener '{listener.Name}' is {problem}."),
            { Problem: var problem } => (ListenerStatus.Pending, asked, $"Listener '{listener.Name}' is {problem}."),
        };
    }

    private static ListenerStatus Disabled(string name, ListenerOptions options, EchoHostOptions all)
    {
        var port = options.Port is { } p ? p.ToString(CultureInfo.InvariantCulture) : "?";
        var address = BindAddress.TryParse(options.Address ?? all.Address, out var parsed) ? Describe(parsed) : "?";
        return new ListenerStatus(name, options.Protocol?.ToLowerInvariant() ?? "?", "", $"{address}:{port}", ListenerStatus.Disabled,
            $"Enabled is false in {EchoHostOptions.SectionName}:Listeners:{name}");
    }

    private static string Describe(BindAddress address) => address.Kind switch
    {
        BindAddressKind.Any => "*",
        BindAddressKind.Localhost => "localhost",
        _ => address.Ip!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address.Ip}]" : address.Ip.ToString(),
    };

    private static long? Count(Dictionary<string, long>? counts, string instrument) =>
        counts is not null && counts.TryGetValue(instrument, out var value) ? value : null;
}
