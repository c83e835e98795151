using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Telemetry;

/// <summary><c>/metrics</c> answers each scraper in the format and encoding it prefers.</summary>
public sealed class MetricsNegotiationTests
{
    /// <summary>What Prometheus 2 sends by default.</summary>
    public const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    /// <summary>Accept headers real scrapers send, and whether the answer is OpenMetrics (else Prometheus text 0.0.4).</summary>
    public static TheoryData<string, bool> Accepts => new()
    {
        { PrometheusAccept, true },
        // Prometheus 3's default, escaping parameters included.
        { "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", true },
        { "application/openmetrics-text", true },
        { "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4", false },
        { "text/plain;version=0.0.4", false },
        { "text/plain", false },
        { "*/*", false },
        { "", false },
        // A tie goes to the first listed.
        { "text/plain;q=0.8,application/openmetrics-text;q=0.8", false },
        { "application/openmetrics-text;q=0.8,text/plain;q=0.8", true },
        { "application/json", false },
    };

    /// <summary>The official exporter negotiates; these pin what our scrapers and dashboards rely on.</summary>
    [Fact]
    public async Task Each_scrapers_accept_header_gets_the_format_it_prefers()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();
        var wrong = new List<string>();

        foreach (var (accept, openMetrics) in Accepts.Select(row => ((string)row[0], (bool)row[1])))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
            if (accept.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            using var response = await http.SendAsync(request);
            var type = response.Content.Headers.ContentType!.MediaType;
            if (response.StatusCode != HttpStatusCode.OK || (type == "application/openmetrics-text") != openMetrics)
            {
                wrong.Add($"{accept}: {(int)response.StatusCode} {response.Content.Headers.ContentType}");
            }
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip, deflate, br", true)]
    // A bare wildcard is not taken as gzip (the exporter compresses only when gzip is named).
    [InlineData("*", false)]
    [InlineData("identity", false)]
    [InlineData("gzip;q=0", false)]
    [InlineData("", false)]
    public async Task Accept_encoding_gzip_gets_gzip(string acceptEncoding, bool gzip)
    {
        await using var host = await TestHost.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = host.HttpBase };
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        if (acceptEncoding.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(gzip, response.Content.Headers.ContentEncoding.Contains("gzip"));
    }

    [Fact]
    public async Task Prometheus_accept_gets_strictly_valid_openmetrics_with_units_created_and_eof()
    {
        await using var host = await TestHost.StartAsync();
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync();
        }

        using var http = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.TryAddWithoutValidation("Accept", PrometheusAccept);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        // The official exporter names its escaping scheme (names are escaped with underscores, as Prometheus 2 expects).
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores", response.Content.Headers.ContentType!.ToString());
        Assert.Empty(OpenMetricsValidator.Validate(text));
        Assert.StartsWith("# TYPE target info\n# HELP target Target metadata\ntarget_info{", text);
        Assert.Contains("# TYPE echohost_io_received_bytes counter\n# UNIT echohost_io_received_bytes bytes\n", text);
        Assert.Matches(@"\nechohost_io_received_bytes_created\{[^}]*echohost_listener=""Echo""[^}]*\} \d{10}(\.\d+)?\n", text);
        Assert.Contains("le=\"1.0\"", text);
        Assert.EndsWith("\n# EOF\n", text);
    }

    [Fact]
    public async Task The_validator_rejects_prometheus_text_so_it_can_fail()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        var errors = OpenMetricsValidator.Validate(await http.GetStringAsync("metrics"));

        Assert.Contains(errors, e => e.Contains("# EOF", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("does not belong to family", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_accept_it_is_prometheus_text_and_gzip_when_allowed()
    {
        await using var host = await TestHost.StartAsync();
        using var plain = host.CreateHttpClient();
        using var gzipped = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = host.HttpBase };
        gzipped.DefaultRequestHeaders.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));

        using var textResponse = await plain.GetAsync("metrics");
        using var gzipResponse = await gzipped.GetAsync("metrics");

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", textResponse.Content.Headers.ContentType!.ToString());
        Assert.Empty(textResponse.Content.Headers.ContentEncoding);
        Assert.DoesNotContain("# EOF", await textResponse.Content.ReadAsStringAsync());
        Assert.Equal(["gzip"], gzipResponse.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", gzipResponse.Headers.Vary);
        await using var unzip = new GZipStream(await gzipResponse.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        var text = await new StreamReader(unzip).ReadToEndAsync();
        Assert.StartsWith("# TYPE target_info gauge\n", text);
        Assert.Contains("\necho", text);
    }
}
