using System.Net;
using System.Security.Authentication;
using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Protocols.Web;

/// <summary>The TLS session a request came over: protocol, cipher suite, the name the client asked for (SNI), ALPN.</summary>
internal sealed record HttpEchoTls(string Protocol, string? Cipher, string? ServerName, string? ApplicationProtocol)
{
    public static HttpEchoTls? Of(HttpContext context)
    {
        if (context.Features.Get<ITlsHandshakeFeature>() is not { } tls)
        {
            return null;
        }

        var alpn = context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>()?.ApplicationProtocol;
        return new HttpEchoTls(
            tls.Protocol switch
            {
                // As openssl, nginx's $ssl_protocol and HAProxy's ssl_fc_protocol write them.
                SslProtocols.Tls13 => "TLSv1.3",
                SslProtocols.Tls12 => "TLSv1.2",
                var other => other.ToString(),
            },
            tls.NegotiatedCipherSuite?.ToString(),
            string.IsNullOrEmpty(tls.HostName) ? null : tls.HostName,
            alpn is { Length: > 0 } a ? System.Text.Encoding.ASCII.GetString(a.Span) : null);
    }
}

/// <summary>Who answered: the values of the banner placeholders <c>{host}</c>, <c>{pod}</c>, <c>{namespace}</c>, <c>{node}</c>, <c>{listener}</c>, <c>{local}</c>.</summary>
internal sealed record HttpEchoServer(string Host, string Pod, string Namespace, string Node, string Listener, string? Local)
{
    public static HttpEchoServer Of(HttpContext context, string listener) => new(
        ServiceIdentity.Host, ServiceIdentity.Pod, ServiceIdentity.Namespace, ServiceIdentity.Node, listener,
        context.Connection.LocalIpAddress is { } local ? new IPEndPoint(Normalize(local), context.Connection.LocalPort).ToString() : null);

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>Everything the echo says about one request, gathered once for the JSON and the text forms.</summary>
internal sealed record HttpEchoReport(
    string Method,
    string Path,
    string Target,
    string Protocol,
    string Scheme,
    string? Host,
    IReadOnlyList<KeyValuePair<string, string[]>> Query,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    HttpEchoBody Body,
    HttpEchoClient Client,
    HttpEchoTls? Tls,
    HttpEchoServer Server,
    HttpEchoKnobs Knobs)
{
    public static HttpEchoReport Of(HttpContext context, WebListener web, HttpEchoBody body, HttpEchoKnobs knobs)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : request.GetEncodedPathAndQuery();
        return new HttpEchoReport(
            request.Method,
            // The branch is mapped at /echo, which moves it to PathBase: the client sent both.
            (request.PathBase + request.Path).Value ?? "/",
            target,
            request.Protocol,
            request.Scheme,
            request.Host.HasValue ? request.Host.Value : null,
            [.. request.Query.Select(q => KeyValuePair.Create(q.Key, q.Value.Select(v => v ?? string.Empty).ToArray()))],
            // Each name once, its values joined with ", " as HTTP allows for a repeated field.
            [.. request.Headers.Select(h => KeyValuePair.Create(h.Key, string.Join(", ", h.Value.ToArray())))],
            body,
            // X-Forwarded-For until WebListenerOptions has the ForwardedHeader key (notes/httpecho.md).
            HttpEchoClient.Resolve(context, web.Listener.TrustedProxies, ForwardedHeaderKind.XForwardedFor),
            HttpEchoTls.Of(context),
            HttpEchoServer.Of(context, web.Listener.Name),
            knobs);
    }
}
