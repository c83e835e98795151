using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using EchoHost.Telemetry;
using EchoHost.Tests.Infrastructure;
using HeaderMediaType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue;
using HeaderQualityValue = Microsoft.Net.Http.Headers.StringWithQualityHeaderValue;

namespace EchoHost.Tests.Telemetry;

/// <summary><c>/metrics</c> answers each scraper in the format and encoding it prefers.</summary>
public sealed class MetricsNegotiationTests
{
    /// <summary>What Prometheus 2 sends by default.</summary>
    public const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    [Theory]
    [InlineData(PrometheusAccept, true)]
    // Prometheus 3's default, escaping parameters included.
    [InlineData("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", true)]
    [InlineData("application/openmetrics-text", true)]
    [InlineData("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4", false)]
    [InlineData("text/plain;version=0.0.4", false)]
    [InlineData("text/plain", false)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    // Versions we cannot write are not chosen; a tie goes to the first listed.
    [InlineData("application/openmetrics-text;version=2.0.0,text/plain;q=0.1", false)]
    [InlineData("text/plain;q=0.8,application/openmetrics-text;q=0.8", false)]
    [InlineData("application/openmetrics-text;q=0.8,text/plain;q=0.8", true)]
    [InlineData("application/openmetrics-text;q=0,text/plain;q=0.1", false)]
    [InlineData("application/json", false)]
    public void Accept_chooses_openmetrics_only_when_it_is_the_preferred_format_we_can_write(string accept, bool openMetrics) =>
        Assert.Equal(openMetrics, MetricsNegotiation.PrefersOpenMetrics(HeaderMediaType.ParseList(accept.Length == 0 ? [] : [accept])));

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip, deflate, br", true)]
    [InlineData("*", true)]
    [InlineData("identity", false)]
    [InlineData("gzip;q=0", false)]
    [InlineData("*, gzip;q=0", false)]
    [InlineData("", false)]
    public void Accept_encoding_allows_gzip(string acceptEncoding, bool gzip) =>
        Assert.Equal(gzip, MetricsNegotiation.AcceptsGzip(HeaderQualityValue.ParseList(acceptEncoding.Length == 0 ? [] : [acceptEncoding])));

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

        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", response.Content.Headers.ContentType!.ToString());
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
