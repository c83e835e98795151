using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Protocols.Web;

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
            HttpEchoClient.Resolve(context, web.Listener.TrustedProxies, web.Options.ForwardedHeader),
            HttpEchoTls.Of(context),
            HttpEchoServer.Of(context, web.Listener.Name),
            knobs);
    }
}
