using System.Diagnostics.Metrics;
using System.Reflection;
using EchoHost.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoHost.Telemetry;

internal static class TelemetrySetup
{
    public const string ServiceName = "echohost";
    public const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";
    public const string RuntimeMeterName = "System.Runtime";
    private const string KestrelConnectionDuration = "kestrel.connection.duration";

    /// <summary>Either of these turns on OTLP export as in any OpenTelemetry SDK; <c>EchoHost:Otlp:Endpoint</c>, when set, wins.</summary>
    private static readonly string[] OtlpEndpointVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"];

    /// <summary>OTLP options of <c>EchoHost:Otlp</c>: named, so they never mix with the standard variables' defaults.</summary>
    private const string EchoHostOtlp = "EchoHost:Otlp";

    /// <summary>
    /// The EchoHost meter and the OpenTelemetry SDK that reads it (with Kestrel's and the runtime's) for
    /// <c>/metrics</c> and optionally OTLP, wired by <c>AddOpenTelemetry()</c>: metrics only, no traces or logs.
    /// </summary>
    public static void AddEchoHostTelemetry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<EchoHostMetrics>();
        // Each listener's counts now, read in-process (the operator's page on GET /).
        services.AddSingleton<ListenerReadings>();
        var version = typeof(TelemetrySetup).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

        // The SDK's MeterProvider is a singleton of the container, which disposes it: that stops the meter listener
        // and pushes a last OTLP export.
        services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read last, win over the defaults, as the specification says.
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceVersion: version, autoGenerateServiceInstanceId: true)
                .AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(EchoHostMetrics.MeterName, KestrelMeterName, RuntimeMeterName);
                // Deferred until the container exists: the view needs this host's IMeterFactory.
                ((IDeferredMeterProviderBuilder)metrics).Configure((sp, built) => built.AddView(ThisHostOnly(sp.GetRequiredService<IMeterFactory>())));
                // The OpenTelemetry project's own exporter (a beta, pinned: docs/observability.md says why). A scrape
                // always collects afresh: its default 300 ms response cache would hand a scraper that asks right after
                // traffic the figures from before it.
                metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                AddOtlpWhenConfigured(builder.Configuration, metrics);
            });

        // First of all hosted services, so the SDK listens before any listener is bound or anything is measured.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, TelemetryStartup>());
    }

    /// <summary>
    /// Meters are matched by name process-wide; keep only this host's (its IMeterFactory's) and the process-wide
    /// runtime meter, so two hosts in one process (as in tests) never mix their figures. Kestrel's connection duration
    /// is EchoHost's, tagged per listener: it gets buckets for long sessions. A gauge whose Prometheus name would end in
    /// <c>_count</c>, <c>_sum</c> or <c>_bucket</c> (suffixes Prometheus reserves for histograms, which promtool
    /// rejects on a gauge: the runtime's <c>dotnet.assembly.count</c>) is renamed with <c>.current</c>.
    /// One function, as every view that matches an instrument adds a stream of its own.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> ThisHostOnly(IMeterFactory meterFactory) => instrument =>
        instrument.Meter.Scope is { } scope && !ReferenceEquals(scope, meterFactory) ? MetricStreamConfiguration.Drop
        : instrument is { Name: KestrelConnectionDuration, Meter.Name: KestrelMeterName } ? new ExplicitBucketHistogramConfiguration { Boundaries = EchoHostMetrics.ConnectionDurationBuckets }
        : IsGauge(instrument) && HistogramSuffixes.Any(instrument.Name.EndsWith) ? new MetricStreamConfiguration { Name = instrument.Name + ".current" }
        : null;

    private static readonly string[] HistogramSuffixes = [".count", "_count", ".sum", "_sum", ".bucket", "_bucket"];

    /// <summary>What Prometheus shows as a gauge: gauges and up-down counters (non-monotonic sums).</summary>
    private static bool IsGauge(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type
        && type.GetGenericTypeDefinition() is var definition
        && (definition == typeof(Gauge<>) || definition == typeof(ObservableGauge<>)
            || definition == typeof(UpDownCounter<>) || definition == typeof(ObservableUpDownCounter<>));

    /// <summary>
    /// An OTLP exporter only when an endpoint is configured, never one dialling the default address: decided here,
    /// as the exporter is added before the container exists; its settings are read when the SDK is built.
    /// </summary>
    private static void AddOtlpWhenConfigured(IConfiguration configuration, MeterProviderBuilder metrics)
    {
        if (!string.IsNullOrWhiteSpace(configuration[$"{EchoHostOptions.SectionName}:Otlp:{nameof(OtlpOptions.Endpoint)}"]))
        {
            metrics.AddOtlpExporter(EchoHostOtlp, configure: null);
            metrics.ConfigureServices(services =>
            {
                services.AddOptions<OtlpExporterOptions>(EchoHostOtlp).Configure<IOptions<EchoHostOptions>>((exporter, echo) => ConfigureOtlp(echo.Value.Otlp, exporter));
                services.AddOptions<MetricReaderOptions>(EchoHostOtlp).Configure<IOptions<EchoHostOptions>>((reader, echo) => ConfigureOtlp(echo.Value.Otlp, reader));
            });
        }
        else if (OtlpEndpointVariables.Any(v => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(v))))
        {
            // The standard variables alone: the exporter reads endpoint, protocol, headers and interval from them.
            metrics.AddOtlpExporter((_, reader) => reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative);
        }
    }

    /// <summary>
    /// <c>GET /metrics</c>, served by the official exporter: OpenMetrics 1.0 when the scraper's <c>Accept</c> prefers
    /// it (Prometheus asks for it first), the Prometheus text format 0.0.4 otherwise, gzip when its
    /// <c>Accept-Encoding</c> names gzip. Every answer is fresh, so no cache on the way may keep one.
    /// </summary>
    public static void MapMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: metrics => metrics.Use((context, next) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            // The exporter adds Accept-Encoding itself.
            context.Response.Headers.Vary = "Accept";
            return next(context);
        }), optionsName: null);

    private static void ConfigureOtlp(OtlpOptions otlp, OtlpExporterOptions exporter)
    {
        var endpoint = new Uri(otlp.Endpoint!);
        exporter.Protocol = otlp.Protocol == OtlpProtocol.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        // Over HTTP the exporter posts to the URL as given: add the standard path to a bare collector address.
        exporter.Endpoint = otlp.Protocol == OtlpProtocol.HttpProtobuf && endpoint.AbsolutePath == "/" ? new Uri(endpoint, "v1/metrics") : endpoint;
    }

    private static void ConfigureOtlp(OtlpOptions otlp, MetricReaderOptions reader)
    {
        reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Min(int.MaxValue, otlp.ExportInterval.TotalMilliseconds);
    }

    /// <summary>
    /// The first hosted service: taking the MeterProvider creates it before any listener is bound, and every series declared
    /// so far (Kestrel's endpoints are configured when the app is built) starts at zero before anything accepts.
    /// </summary>
    private sealed class TelemetryStartup(MeterProvider sdk, EchoHostMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = sdk;
            metrics.StartSeriesAtZero();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
