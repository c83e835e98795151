using Microsoft.Net.Http.Headers;

namespace EchoHost.Telemetry;

/// <summary>
/// What <c>GET /metrics</c> answers a scraper, from its <c>Accept</c> and <c>Accept-Encoding</c>: OpenMetrics 1.0 text
/// when that is the acceptable format of highest quality (Prometheus asks for it first by default), the Prometheus
/// text format 0.0.4 otherwise and when nothing acceptable is offered (as the official exporter falls back); gzip
/// when the scraper takes it.
/// </summary>
internal static class MetricsNegotiation
{
    /// <summary>True when OpenMetrics 1.0 is preferred: of the media types we can serve, the one of highest q, the first on a tie.</summary>
    public static bool PrefersOpenMetrics(IList<MediaTypeHeaderValue> accept)
    {
        var best = 0.0;
        var openMetrics = false;
        foreach (var range in accept)
        {
            var quality = range.Quality ?? 1.0;
            if (quality <= best || Serves(range) is not { } isOpenMetrics)
            {
                continue;
            }

            best = quality;
            openMetrics = isOpenMetrics;
        }

        return openMetrics;
    }

    /// <summary>Whether the scraper accepts gzip: <c>gzip</c> or <c>*</c> with a quality above zero.</summary>
    public static bool AcceptsGzip(IList<StringWithQualityHeaderValue> acceptEncoding) =>
        acceptEncoding.Any(e => (e.Quality ?? 1.0) > 0
            && (e.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) || e.Value.Equals("*", StringComparison.Ordinal)))
        && !acceptEncoding.Any(e => e.Quality == 0 && e.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True for OpenMetrics 1.0.0 (or unversioned: 1.0.0 is the standard), false for text 0.0.4 (or unversioned
    /// text/plain, or a wildcard), null for what we cannot serve (other versions, other types).
    /// </summary>
    private static bool? Serves(MediaTypeHeaderValue range)
    {
        var version = NameValueHeaderValue.Find(range.Parameters, "version")?.Value.Value?.Trim('"');
        if (range.MediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
        {
            return version is null or "1.0.0" ? true : null;
        }

        if (range.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            return version is null or "0.0.4" ? false : null;
        }

        return range.MatchesAllTypes || range.MediaType.Equals("text/*", StringComparison.OrdinalIgnoreCase) ? false : null;
    }
}
