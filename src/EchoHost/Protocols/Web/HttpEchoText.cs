using System.Text;

namespace EchoHost.Protocols.Web;

/// <summary>
/// The echo as plain text, for a client that asks for <c>text/plain</c>: the request as it came (request line, headers,
/// body), then one line each for the client, the forwarded header, TLS and who answered, in the spirit of traefik/whoami.
/// </summary>
internal static class HttpEchoText
{
    public const string ContentType = "text/plain; charset=utf-8";

    public static string Write(HttpEchoReport report)
    {
        var text = new StringBuilder();
        text.Append(report.Method).Append(' ').Append(report.Target).Append(' ').Append(report.Protocol).Append('\n');
        foreach (var (name, value) in report.Headers)
        {
            text.Append(name).Append(": ").Append(value).Append('\n');
        }

        text.Append('\n');
        var client = report.Client;
        text.Append("client: ").Append(client.Address).Append(" (").Append(client.Source).Append("; peer ").Append(client.Peer).Append(')').Append('\n');
        if (client.ProxyProtocol is { } proxy)
        {
            text.Append("proxy-protocol: v").Append(proxy.Version).Append(" from ").Append(proxy.ProxyEndPoint)
                .Append(proxy.IsLocal ? " (LOCAL)" : string.Empty).Append('\n');
        }

        if (client.Forwarded is { } forwarded)
        {
            text.Append("forwarded: ").Append(forwarded.Header).Append(": ").Append(forwarded.Value).Append(" (").Append(forwarded.Note).Append(')').Append('\n');
        }

        if (report.Tls is { } tls)
        {
            text.Append("tls: ").Append(tls.Protocol).Append(' ').Append(tls.Cipher ?? "-")
                .Append(" sni=").Append(tls.ServerName ?? "-").Append(" alpn=").Append(tls.ApplicationProtocol ?? "-").Append('\n');
        }

        var server = report.Server;
        text.Append("server: host=").Append(server.Host).Append(" pod=").Append(server.Pod).Append(" namespace=").Append(server.Namespace)
            .Append(" node=").Append(server.Node).Append(" listener=").Append(server.Listener).Append(" local=").Append(server.Local).Append('\n');
        text.Append("response: status=").Append(report.Knobs.Status).Append(" delay=").Append(HttpEchoKnobs.Format(report.Knobs.Delay)).Append('\n');

        var body = report.Body;
        var utf8 = body.Utf8Text();
        text.Append("body: ").Append(body.Received).Append(" bytes");
        if (body.Truncated)
        {
            text.Append(", first ").Append(body.Kept).Append(" echoed (MaxEchoBodyBytes)");
        }

        text.Append(utf8 is null ? ", base64" : ", utf-8").Append('\n');
        if (body.Received > 0)
        {
            text.Append('\n').Append(utf8 ?? Convert.ToBase64String(body.Bytes)).Append('\n');
        }

        return text.ToString();
    }
}
