using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EchoHost.Protocols.Web;

/// <summary>
/// The echo as JSON, indented for a person reading curl's output and stable for <c>jq</c>: every field always present
/// (null when it does not apply), query values always arrays, header values always strings.
/// </summary>
internal static class HttpEchoJson
{
    public const string ContentType = "application/json; charset=utf-8";

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        // Non-ASCII text stays readable; quotes and control characters are still escaped. The answer is never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(IBufferWriter<byte> output, HttpEchoReport report)
    {
        using var json = new Utf8JsonWriter(output, Options);
        json.WriteStartObject();
        json.WriteString("method", report.Method);
        json.WriteString("path", report.Path);
        json.WriteString("target", report.Target);
        json.WriteString("protocol", report.Protocol);
        json.WriteString("scheme", report.Scheme);
        json.WriteString("host", report.Host);

        json.WriteStartObject("query");
        foreach (var (name, values) in report.Query)
        {
            json.WriteStartArray(name);
            foreach (var value in values)
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();

        json.WriteStartObject("headers");
        foreach (var (name, value) in report.Headers)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();

        WriteBody(json, report.Body);
        WriteClient(json, report.Client);
        WriteTls(json, report.Tls);

        var server = report.Server;
        json.WriteStartObject("server");
        json.WriteString("host", server.Host);
        json.WriteString("pod", server.Pod);
        json.WriteString("namespace", server.Namespace);
        json.WriteString("node", server.Node);
        json.WriteString("listener", server.Listener);
        json.WriteString("local", server.Local);
        json.WriteEndObject();

        json.WriteStartObject("response");
        json.WriteNumber("status", report.Knobs.Status);
        json.WriteNumber("delayMs", (long)report.Knobs.Delay.TotalMilliseconds);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteBody(Utf8JsonWriter json, HttpEchoBody body)
    {
        json.WriteStartObject("body");
        json.WriteNumber("bytes", body.Received);
        json.WriteNumber("echoedBytes", body.Kept);
        json.WriteBoolean("truncated", body.Truncated);
        if (body.Utf8Text() is { } text)
        {
            json.WriteString("encoding", "utf-8");
            json.WriteString("text", text);
            json.WriteNull("base64");
        }
        else
        {
            json.WriteString("encoding", "base64");
            json.WriteNull("text");
            json.WriteBase64String("base64", body.Bytes);
        }

        json.WriteEndObject();
    }

    private static void WriteClient(Utf8JsonWriter json, HttpEchoClient client)
    {
        json.WriteStartObject("client");
        json.WriteString("address", client.Address?.ToString());
        json.WriteString("source", client.Source);
        json.WriteString("peer", client.Peer?.ToString());
        if (client.ProxyProtocol is { } proxy)
        {
            json.WriteStartObject("proxyProtocol");
            json.WriteNumber("version", proxy.Version);
            json.WriteString("proxy", proxy.ProxyEndPoint?.ToString());
            json.WriteString("destination", proxy.Destination?.ToString());
            json.WriteBoolean("local", proxy.IsLocal);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("proxyProtocol");
        }

        if (client.Forwarded is { } forwarded)
        {
            json.WriteStartObject("forwarded");
            json.WriteString("header", forwarded.Header);
            json.WriteString("value", forwarded.Value);
            json.WriteBoolean("used", forwarded.Used);
            json.WriteString("note", forwarded.Note);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("forwarded");
        }

        json.WriteEndObject();
    }

    private static void WriteTls(Utf8JsonWriter json, HttpEchoTls? tls)
    {
        if (tls is null)
        {
            json.WriteNull("tls");
            return;
        }

        json.WriteStartObject("tls");
        json.WriteString("protocol", tls.Protocol);
        json.WriteString("cipher", tls.Cipher);
        json.WriteString("sni", tls.ServerName);
        json.WriteString("alpn", tls.ApplicationProtocol);
        json.WriteEndObject();
    }
}
