using System.Security.Authentication;
using Microsoft.AspNetCore.Connections.Features;

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
