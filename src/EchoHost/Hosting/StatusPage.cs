using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Telemetry;
using Microsoft.Net.Http.Headers;

namespace EchoHost.Hosting;

/// <summary>
/// <c>GET /</c> on the HTTP endpoint: the one line of <see cref="ServiceDescription"/> for curl and scripts, the
/// operator's page for a browser (an <c>Accept</c> that prefers <c>text/html</c>); <c>GET /status.json</c>, the live
/// snapshot the page polls; and the page's stylesheet and script, shipped in the binary (nothing from elsewhere: the
/// Content-Security-Policy allows this origin only, and no inline code).
/// </summary>
internal static class StatusPage
{
    public const string JsonPath = "/status.json";

    /// <summary>Scripts, styles and fetches from this origin only; no inline code, no frames, no forms, no plug-ins.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Maps <c>/</c>, <c>/status.json</c> and the page's assets; the meter is read from now on.</summary>
    public static void MapStatusPage(this IEndpointRouteBuilder endpoints)
    {
        // Created now, before any connection, so the up-down counters it sums (chat users) miss no move.
        endpoints.ServiceProvider.GetRequiredService<ListenerReadings>();

        endpoints.MapGet("/", (HttpContext context, ListenerSet listeners, ListenerEndpoints bound, ListenerReadings readings) =>
        {
            // A cache must not give a browser's page to curl, or the reverse.
            context.Response.Headers.Vary = HeaderNames.Accept;
            if (!PrefersHtml(context.Request))
            {
                return Results.Text(ServiceDescription.Text(listeners, bound), "text/plain; charset=utf-8");
            }

            Protect(context.Response);
            var root = $"{context.Request.Scheme}://{context.Request.Host}/";
            return Results.Text(StatusPageHtml.Render(StatusSnapshot.Of(listeners, bound, readings), root), "text/html; charset=utf-8");
        });

        endpoints.MapGet(JsonPath, (HttpContext context, ListenerSet listeners, ListenerEndpoints bound, ListenerReadings readings) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Json(StatusSnapshot.Of(listeners, bound, readings));
        });

        endpoints.MapGet("/status.css", (HttpContext context) => Asset(context, StatusPageAssets.Css, "text/css; charset=utf-8"));
        endpoints.MapGet("/status.js", (HttpContext context) => Asset(context, StatusPageAssets.Script, "text/javascript; charset=utf-8"));
    }

    /// <summary>
    /// Whether the client asked for HTML before plain text: <c>text/html</c> (or XHTML) named in <c>Accept</c> with a
    /// higher quality than <c>text/plain</c> gets, or the same quality when text only comes in through a wildcard (a
    /// browser's <c>text/html,…,*/*;q=0.8</c>). No <c>Accept</c>, <c>*/*</c> (curl) or a tie with an explicit
    /// <c>text/plain</c> keep the text.
    /// </summary>
    internal static bool PrefersHtml(HttpRequest request)
    {
        IList<MediaTypeHeaderValue> accept;
        try
        {
            accept = request.GetTypedHeaders().Accept;
        }
        catch (FormatException)
        {
            return false;
        }

        var html = Math.Max(Explicit(accept, "text/html") ?? 0, Explicit(accept, "application/xhtml+xml") ?? 0);
        if (html <= 0)
        {
            return false;
        }

        var plain = Explicit(accept, "text/plain");
        return plain is { } named ? html > named : html >= Wildcard(accept);
    }

    /// <summary>The best quality of the entries naming <paramref name="type"/> itself; null when none does.</summary>
    private static double? Explicit(IList<MediaTypeHeaderValue> accept, string type) => Best(accept, type);

    /// <summary>The quality <c>text/plain</c> gets through <c>text/*</c> (the more specific) or <c>*/*</c>; 0 when neither is there.</summary>
    private static double Wildcard(IList<MediaTypeHeaderValue> accept) => Best(accept, "text/*") ?? Best(accept, "*/*") ?? 0;

    private static double? Best(IList<MediaTypeHeaderValue> accept, string type)
    {
        double? best = null;
        foreach (var range in accept)
        {
            if (range.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            {
                best = Math.Max(best ?? 0, range.Quality ?? 1);
            }
        }

        return best;
    }

    private static void Protect(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-cache";
    }

    private static IResult Asset(HttpContext context, byte[] content, string contentType)
    {
        Protect(context.Response);
        return Results.Bytes(content, contentType);
    }
}
