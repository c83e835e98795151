using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoHost.Telemetry;

/// <summary>
/// The pull side of <c>GET /metrics</c>: a cumulative <see cref="MetricReader"/> that collects only when scraped.
/// Scrapes are serialised, so concurrent ones never share a half-written buffer; each one costs the same whatever the
/// number of connections, because every instrument aggregates into a fixed set of series.
/// </summary>
internal sealed class PrometheusScraper
{
    private const int CollectTimeoutMilliseconds = 10_000;

    private readonly PullExporter _exporter = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public PrometheusScraper()
    {
        Reader = new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
    }

    /// <summary>Added to the meter provider, which owns and disposes it.</summary>
    public MetricReader Reader { get; }

    /// <summary>
    /// The current metrics as UTF-8 Prometheus text (or OpenMetrics text), or null once the meter provider has shut down.
    /// </summary>
    public async Task<byte[]?> ScrapeAsync(CancellationToken cancellationToken, bool openMetrics = false)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _exporter.Scrape(CollectTimeoutMilliseconds, openMetrics);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Pull-only: the SDK calls <see cref="Export"/> only from inside <see cref="IPullMetricExporter.Collect"/>, on the
    /// scraping thread, with a batch that is valid for that call alone; so the text is written right there.
    /// </summary>
    [ExportModes(ExportModes.Pull)]
    private sealed class PullExporter : BaseExporter<Metric>, IPullMetricExporter
    {
        private readonly StringBuilder _text = new();
        private bool _collecting;
        private bool _openMetrics;

        public Func<int, bool>? Collect { get; set; }

        public byte[]? Scrape(int timeoutMilliseconds, bool openMetrics)
        {
            _text.Clear();
            _openMetrics = openMetrics;
            _collecting = true;
            try
            {
                return Collect is { } collect && collect(timeoutMilliseconds) ? Encoding.UTF8.GetBytes(_text.ToString()) : null;
            }
            finally
            {
                _collecting = false;
            }
        }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            if (!_collecting)
            {
                return ExportResult.Failure;
            }

            PrometheusTextWriter.Write(_text, ParentProvider?.GetResource() ?? Resource.Empty, batch, _openMetrics);
            return ExportResult.Success;
        }
    }
}
