using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace EchoHost.Hosting;

/// <summary>
/// The operator's page as first sent: the template of Hosting/StatusPage/status.html filled with the snapshot, every
/// value HTML-encoded. The page reads without JavaScript; its script then updates the cells marked <c>data-field</c>.
/// </summary>
internal static class StatusPageHtml
{
    /// <summary>The count columns: the JSON field the script updates each from, and the column's name (a phone's label).</summary>
    private static readonly (string Field, string Label, Func<ListenerStatus, long?> Read)[] Counts =
    [
        ("connections", "Connections open", l => l.Connections),
        ("bytesIn", "Bytes in", l => l.BytesIn),
        ("bytesOut", "Bytes out", l => l.BytesOut),
        ("datagramsIn", "Datagrams in", l => l.DatagramsIn),
        ("datagramsOut", "Datagrams out", l => l.DatagramsOut),
        ("chatUsers", "Chat users", l => l.ChatUsers),
    ];

    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;

    public static string Render(StatusSnapshot status, string root) => StatusPageAssets.Template
        .Replace("{{service}}", Encode(status.Service), StringComparison.Ordinal)
        .Replace("{{readiness}}", Encode(status.Readiness), StringComparison.Ordinal)
        .Replace("{{readyClass}}", status.Ready ? "ready" : "not-ready", StringComparison.Ordinal)
        .Replace("{{rows}}", Rows(status.Listeners), StringComparison.Ordinal)
        .Replace("{{links}}", Links(status.Links), StringComparison.Ordinal)
        .Replace("{{root}}", Encode(root), StringComparison.Ordinal);

    private static string Rows(IReadOnlyList<ListenerStatus> listeners)
    {
        var html = new StringBuilder();
        foreach (var l in listeners)
        {
            html.Append(CultureInfo.InvariantCulture, $"""        <tr data-listener="{Encode(l.Name)}">""").Append('\n')
                .Append(CultureInfo.InvariantCulture, $"""          <th scope="row">{Encode(l.Name)}</th>""").Append('\n')
                .Append(CultureInfo.InvariantCulture, $"""          <td data-label="Protocol">{Encode(Protocol(l))}{Detail(Features(l))}</td>""").Append('\n')
                .Append(CultureInfo.InvariantCulture, $"""          <td data-label="Address" data-field="address" class="address">{Encode(l.Address)}</td>""").Append('\n')
                .Append(CultureInfo.InvariantCulture, $"""          <td data-label="State" data-field="state"><span class="state state-{Encode(l.State)}">{Encode(l.State)}</span>{Detail(l.Detail)}</td>""").Append('\n');
            foreach (var (field, label, read) in Counts)
            {
                var value = read(l);
                var text = value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "\u2014";
                html.Append(CultureInfo.InvariantCulture, $"""          <td data-label="{label}" data-field="{field}" class="num{(value is null ? " none" : "")}">{text}</td>""").Append('\n');
            }

            html.Append("        </tr>\n");
        }

        return html.ToString().TrimEnd('\n');
    }

    private static string Protocol(ListenerStatus l) => l.Transport.Length == 0 ? l.Protocol : $"{l.Protocol} ({l.Transport})";

    private static string? Features(ListenerStatus l) => string.Join(", ", new[]
    {
        l.Tls ? "TLS" : null,
        l.ProxyProtocol is { } mode ? $"PROXY protocol {mode}" : null,
    }.OfType<string>()) is { Length: > 0 } features ? features : null;

    private static string Detail(string? text) => text is null ? "" : $"""<span class="detail">{Encode(text)}</span>""";

    private static string Links(HttpLinks links)
    {
        var items = new List<string>
        {
            Link(links.Metrics, "Prometheus text"),
            Link(links.Healthz, "liveness"),
            Link(links.Readyz, "readiness"),
            links.Connections is { } connections
                ? Link(connections, "live connections, JSON (with client addresses)")
                : $"""      <li><code>/connections</code>: off; {Encode(links.ConnectionsOff!)}</li>""",
            Link(StatusPage.JsonPath, "these counts, JSON"),
        };
        return string.Join('\n', items);
    }

    private static string Link(string path, string what) => $"""      <li><a href="{Encode(path)}"><code>{Encode(path)}</code></a>: {Encode(what)}</li>""";

    private static string Encode(string text) => Encoder.Encode(text);
}
