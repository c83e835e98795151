using System.Diagnostics.Metrics;
using System.Text;
using EchoHost.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoHost.Tests.Telemetry;

/// <summary>
/// The exposition text, byte for byte, for each kind of instrument: a real OpenTelemetry SDK reads a meter of the
/// test's own and the scraper renders what it collected.
/// </summary>
public sealed class PrometheusTextWriterTests
{
    /// <summary>Records with <paramref name="record"/> on a fresh meter and scrapes once; no resource unless given.</summary>
    private static async Task<string> ScrapeAsync(string meterName, Action<Meter> record, Dictionary<string, object>? resource = null, string? meterVersion = null, bool openMetrics = false)
    {
        using var meter = new Meter(meterName, meterVersion);
        var scraper = new PrometheusScraper();
        using var sdk = OpenTelemetrySdk.Create(otel => otel
            .ConfigureResource(r => r.Clear().AddAttributes(resource ?? []))
            .WithMetrics(metrics => metrics.AddMeter(meterName).AddReader(scraper.Reader)));
        record(meter);
        var text = await scraper.ScrapeAsync(CancellationToken.None, openMetrics);
        return Encoding.UTF8.GetString(Assert.IsType<byte[]>(text));
    }

    /// <summary>What a scrape of a meter of the case's own must return; the key is the case's name.</summary>
    private sealed record Exposition(Func<Task<string>> Scrape, string Expected);

    private static readonly Dictionary<string, Exposition> Expositions = new()
    {
        ["Counter_with_a_unit_gets_the_unit_and_total_suffixes_and_scope_labels"] = new(() => ScrapeAsync("Telemetry.Counter", meter =>
        {
            var counter = meter.CreateCounter<long>("test.io.received", "By", "Bytes in.");
            counter.Add(7);
            counter.Add(5, new KeyValuePair<string, object?>("direction", "in"));
        }, meterVersion: "1.2"),
            """
            # TYPE test_io_received_bytes_total counter
            # HELP test_io_received_bytes_total Bytes in.
            test_io_received_bytes_total{otel_scope_name="Telemetry.Counter",otel_scope_version="1.2"} 7
            test_io_received_bytes_total{otel_scope_name="Telemetry.Counter",otel_scope_version="1.2",direction="in"} 5

            """),

        ["Floating_point_counter_is_written_with_the_shortest_round_tripping_digits"] = new(() => ScrapeAsync("Telemetry.DoubleCounter", meter =>
        {
            var counter = meter.CreateCounter<double>("test.work", "s", "Work done.");
            counter.Add(0.1);
            counter.Add(0.2);
        }),
            """
            # TYPE test_work_seconds_total counter
            # HELP test_work_seconds_total Work done.
            test_work_seconds_total{otel_scope_name="Telemetry.DoubleCounter"} 0.30000000000000004

            """),

        ["Up_down_counter_is_a_gauge_and_an_annotation_unit_adds_no_suffix"] = new(() => ScrapeAsync("Telemetry.UpDown", meter =>
        {
            var queue = meter.CreateUpDownCounter<long>("test.queue.depth", "{item}", "Items waiting.");
            queue.Add(3);
            queue.Add(-1);
        }),
            """
            # TYPE test_queue_depth gauge
            # HELP test_queue_depth Items waiting.
            test_queue_depth{otel_scope_name="Telemetry.UpDown"} 2

            """),

        ["Gauge_keeps_its_last_value_and_a_rate_unit_becomes_per"] = new(() => ScrapeAsync("Telemetry.Gauge", meter =>
        {
            var temperature = meter.CreateGauge<double>("test.temperature", "Cel", "Temperature.");
            temperature.Record(30);
            temperature.Record(21.5);
            meter.CreateObservableGauge("test.throughput", () => 1e21, "By/s", "Throughput.");
        }),
            """
            # TYPE test_temperature_celsius gauge
            # HELP test_temperature_celsius Temperature.
            test_temperature_celsius{otel_scope_name="Telemetry.Gauge"} 21.5
            # TYPE test_throughput_bytes_per_second gauge
            # HELP test_throughput_bytes_per_second Throughput.
            test_throughput_bytes_per_second{otel_scope_name="Telemetry.Gauge"} 1E+21

            """),

        // An attribute named "le" would clash with the bucket bound: it is left out, as the official exporter does.
        ["Histogram_with_explicit_buckets_writes_cumulative_buckets_up_to_inf_then_sum_and_count"] = new(() => ScrapeAsync("Telemetry.Histogram", meter =>
        {
            var latency = meter.CreateHistogram("test.latency", "ms", "Latency.", tags: null,
                advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2.5, 10] });
            latency.Record(0.5);
            latency.Record(2);
            latency.Record(2, new KeyValuePair<string, object?>("le", "dropped"));
            latency.Record(50);
        }),
            """
            # TYPE test_latency_milliseconds histogram
            # HELP test_latency_milliseconds Latency.
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="1"} 1
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="2.5"} 2
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="10"} 2
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="+Inf"} 3
            test_latency_milliseconds_sum{otel_scope_name="Telemetry.Histogram"} 52.5
            test_latency_milliseconds_count{otel_scope_name="Telemetry.Histogram"} 3
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="1"} 0
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="2.5"} 1
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="10"} 1
            test_latency_milliseconds_bucket{otel_scope_name="Telemetry.Histogram",le="+Inf"} 1
            test_latency_milliseconds_sum{otel_scope_name="Telemetry.Histogram"} 2
            test_latency_milliseconds_count{otel_scope_name="Telemetry.Histogram"} 1

            """),

        ["Names_and_label_names_are_sanitised"] = new(() => ScrapeAsync("Telemetry.Names", meter =>
        {
            // OpenTelemetry itself accepts only names of [A-Za-z][-_./A-Za-z0-9]*; those characters still need work.
            var naps = meter.CreateCounter<long>("Cat-naps/day..per__hour", "1", "Naps.");
            naps.Add(1, new KeyValuePair<string, object?>("http.response.status_code", 200), new KeyValuePair<string, object?>("1st-try", true));
        }),
            """
            # TYPE Cat_naps_day_per_hour_total counter
            # HELP Cat_naps_day_per_hour_total Naps.
            Cat_naps_day_per_hour_total{otel_scope_name="Telemetry.Names",_1st_try="true",http_response_status_code="200"} 1

            """),

        ["Label_values_and_help_text_are_escaped"] = new(() => ScrapeAsync("Telemetry.Escaping", meter =>
        {
            var counter = meter.CreateCounter<long>("test.escaped", null, "Line one\nback\\slash \"quotes\" stay");
            counter.Add(1, new KeyValuePair<string, object?>("said", "He said \"hi\"\\\nbye é"));
        }),
            """
            # TYPE test_escaped_total counter
            # HELP test_escaped_total Line one\nback\\slash "quotes" stay
            test_escaped_total{otel_scope_name="Telemetry.Escaping",said="He said \"hi\"\\\nbye é"} 1

            """),

        ["Attributes_that_sanitise_to_one_label_are_merged_in_key_order"] = new(() => ScrapeAsync("Telemetry.Merge", meter =>
            meter.CreateCounter<long>("test.merged", null, "Merged.").Add(1,
                new KeyValuePair<string, object?>("a_b", "underscore"), new KeyValuePair<string, object?>("a.b", "dot"))),
            """
            # TYPE test_merged_total counter
            # HELP test_merged_total Merged.
            test_merged_total{otel_scope_name="Telemetry.Merge",a_b="dot;underscore"} 1

            """),

        ["Instruments_that_map_to_one_name_with_different_types_are_left_out"] = new(() => ScrapeAsync("Telemetry.Clash", meter =>
        {
            meter.CreateCounter<long>("test.clash", null, "A counter.").Add(1);
            meter.CreateUpDownCounter<long>("test.clash.total", null, "A gauge.").Add(1);
            meter.CreateCounter<long>("test.fine", null, "Kept.").Add(1);
        }),
            """
            # TYPE test_fine_total counter
            # HELP test_fine_total Kept.
            test_fine_total{otel_scope_name="Telemetry.Clash"} 1

            """),

        ["Target_info_carries_the_resource_attributes_first"] = new(() => ScrapeAsync("Telemetry.Target", meter => meter.CreateCounter<long>("test.one", null, "One.").Add(1), new Dictionary<string, object>
        {
            ["service.name"] = "echohost",
            ["service.instance.id"] = "a1b2",
            ["deployment.environment"] = "lab \"7\"",
            ["weight"] = 3.0,
            ["replicas"] = 42L,
            ["canary"] = true,
        }),
            """
            # TYPE target_info gauge
            # HELP target_info Target metadata
            target_info{service_name="echohost",service_instance_id="a1b2",deployment_environment="lab \"7\"",weight="3.0",replicas="42",canary="true"} 1
            # TYPE test_one_total counter
            # HELP test_one_total One.
            test_one_total{otel_scope_name="Telemetry.Target"} 1

            """),

        ["A_gauge_ending_in_a_histogram_suffix_gets_current_so_promtool_accepts_it"] = new(() => ScrapeAsync("Telemetry.Reserved", meter =>
            meter.CreateObservableUpDownCounter("test.assembly.count", () => 3L, "{assembly}", "Assemblies.")),
            """
            # TYPE test_assembly_count_current gauge
            # HELP test_assembly_count_current Assemblies.
            test_assembly_count_current{otel_scope_name="Telemetry.Reserved"} 3

            """),

        ["Families_are_sorted_by_name_and_an_instrument_without_description_has_no_help"] = new(() => ScrapeAsync("Telemetry.Order", meter =>
        {
            meter.CreateCounter<long>("zeta").Add(1);
            meter.CreateCounter<long>("alpha", "s").Add(2);
        }),
            """
            # TYPE alpha_seconds_total counter
            alpha_seconds_total{otel_scope_name="Telemetry.Order"} 2
            # TYPE zeta_total counter
            zeta_total{otel_scope_name="Telemetry.Order"} 1

            """),
    };

    public static TheoryData<string> ExpositionCases => new(Expositions.Keys);

    [Theory]
    [MemberData(nameof(ExpositionCases))]
    public async Task Each_kind_of_instrument_is_written_as_the_official_exporter_writes_it(string name)
    {
        var exposition = Expositions[name];
        Assert.Equal(exposition.Expected, await exposition.Scrape());
    }

    [Fact]
    public async Task OpenMetrics_names_the_counter_family_without_total_and_adds_unit_created_and_eof()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var text = await ScrapeAsync("Telemetry.OpenMetrics", meter =>
        {
            var counter = meter.CreateCounter<long>("test.io.received", "By", "Bytes \"in\".");
            counter.Add(7);
            meter.CreateUpDownCounter<long>("test.active", "{connection}").Add(2);
            var latency = meter.CreateHistogram("test.latency", "s", "Latency.", tags: null,
                advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2.5] });
            latency.Record(2);
        }, resource: new() { ["service.name"] = "svc" }, openMetrics: true);

        var created = System.Text.RegularExpressions.Regex.Matches(text, @"_created\{[^}]*\} (?<t>[0-9.]+)\n");
        Assert.Equal(2, created.Count);
        Assert.All(created, m => Assert.InRange(double.Parse(m.Groups["t"].Value, System.Globalization.CultureInfo.InvariantCulture), before - 60, before + 60));
        Assert.Equal(
            """
            # TYPE target info
            # HELP target Target metadata
            target_info{service_name="svc"} 1
            # TYPE test_active gauge
            test_active{otel_scope_name="Telemetry.OpenMetrics"} 2
            # TYPE test_io_received_bytes counter
            # UNIT test_io_received_bytes bytes
            # HELP test_io_received_bytes Bytes \"in\".
            test_io_received_bytes_total{otel_scope_name="Telemetry.OpenMetrics"} 7
            test_io_received_bytes_created{otel_scope_name="Telemetry.OpenMetrics"} T
            # TYPE test_latency_seconds histogram
            # UNIT test_latency_seconds seconds
            # HELP test_latency_seconds Latency.
            test_latency_seconds_bucket{otel_scope_name="Telemetry.OpenMetrics",le="1.0"} 0
            test_latency_seconds_bucket{otel_scope_name="Telemetry.OpenMetrics",le="2.5"} 1
            test_latency_seconds_bucket{otel_scope_name="Telemetry.OpenMetrics",le="+Inf"} 1
            test_latency_seconds_sum{otel_scope_name="Telemetry.OpenMetrics"} 2
            test_latency_seconds_count{otel_scope_name="Telemetry.OpenMetrics"} 1
            test_latency_seconds_created{otel_scope_name="Telemetry.OpenMetrics"} T
            # EOF

            """,
            System.Text.RegularExpressions.Regex.Replace(text, @"(_created\{[^}]*\}) [0-9.]+\n", "$1 T\n"));
        Assert.Empty(Infrastructure.OpenMetricsValidator.Validate(text));
    }

    [Fact]
    public async Task Concurrent_scrapes_each_get_a_whole_exposition()
    {
        using var meter = new Meter("Telemetry.Concurrent");
        var scraper = new PrometheusScraper();
        using var sdk = OpenTelemetrySdk.Create(otel => otel
            .ConfigureResource(r => r.Clear())
            .WithMetrics(metrics => metrics.AddMeter(meter.Name).AddReader(scraper.Reader)));
        var counter = meter.CreateCounter<long>("test.concurrent", null, "Concurrent.");
        counter.Add(1);

        var texts = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => scraper.ScrapeAsync(CancellationToken.None))));

        Assert.All(texts, text => Assert.Equal(
            "# TYPE test_concurrent_total counter\n# HELP test_concurrent_total Concurrent.\ntest_concurrent_total{otel_scope_name=\"Telemetry.Concurrent\"} 1\n",
            Encoding.UTF8.GetString(text!)));
    }

    [Fact]
    public async Task After_the_sdk_is_disposed_a_scrape_returns_nothing()
    {
        var scraper = new PrometheusScraper();
        var sdk = OpenTelemetrySdk.Create(otel => otel.WithMetrics(metrics => metrics.AddReader(scraper.Reader)));
        sdk.Dispose();

        Assert.Null(await scraper.ScrapeAsync(CancellationToken.None));
    }
}
