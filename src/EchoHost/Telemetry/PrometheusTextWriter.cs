using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoHost.Telemetry;

/// <summary>
/// Writes one collection of cumulative metrics in the Prometheus text format, version 0.0.4, or in OpenMetrics 1.0
/// text: <c>target_info</c> from the resource first, then the metric families sorted by name, each with its
/// <c># TYPE</c> line, its <c># HELP</c> line when the instrument has a description, and its samples labelled with the
/// instrument scope (<c>otel_scope_name</c>, <c>otel_scope_version</c>) and the point's attributes.
/// </summary>
/// <remarks>
/// OpenMetrics as the official OpenTelemetry .NET exporter writes it: a counter's family (its <c># TYPE</c>, <c># UNIT</c>
/// and <c># HELP</c>) is named without <c>_total</c>, which only its samples carry; <c># UNIT</c> when the name ends
/// with the unit; counters and histograms get <c>_created</c> (the start of their cumulative count, in Unix seconds);
/// <c>le</c> in canonical form (<c>1.0</c>); <c>target_info</c> is an info family; <c>unknown</c> replaces
/// <c>untyped</c>; <c># EOF</c> ends it.
/// </remarks>
internal static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    // Names depend only on the instrument: compute them once per metric stream, not per scrape.
    private static readonly ConditionalWeakTable<Metric, Family> Families = new();

    public static void Write(StringBuilder text, Resource resource, in Batch<Metric> batch, bool openMetrics = false)
    {
        WriteTargetInfo(text, resource, openMetrics);

        // One # TYPE and # HELP per family; the first description wins. Two instruments that map to one name with
        // different types cannot be told apart by Prometheus, so that family is left out.
        var streams = new List<(Metric Metric, Family Family)>();
        var help = new Dictionary<string, string?>(StringComparer.Ordinal);
        var types = new Dictionary<string, PrometheusType>(StringComparer.Ordinal);
        var conflicting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in batch)
        {
            if (metric.MetricType == MetricType.ExponentialHistogram)
            {
                continue;
            }

            var family = Families.GetValue(metric, static m => Family.Of(m));
            streams.Add((metric, family));
            if (types.TryAdd(family.Name, family.Type))
            {
                help[family.Name] = string.IsNullOrEmpty(metric.Description) ? null : metric.Description;
                continue;
            }

            if (types[family.Name] != family.Type)
            {
                conflicting.Add(family.Name);
            }

            if (help[family.Name] is null && !string.IsNullOrEmpty(metric.Description))
            {
                help[family.Name] = metric.Description;
            }
        }

        string? previous = null;
        foreach (var (metric, family) in streams
                     .OrderBy(s => s.Family.Name, StringComparer.Ordinal)
                     .ThenBy(s => s.Metric.MeterName, StringComparer.Ordinal)
                     .ThenBy(s => s.Metric.Name, StringComparer.Ordinal))
        {
            if (conflicting.Contains(family.Name))
            {
                continue;
            }

            if (family.Name != previous)
            {
                var metadataName = openMetrics ? family.MetadataName : family.Name;
                var typeName = openMetrics && family.Type == PrometheusType.Untyped ? "unknown" : PrometheusNaming.TypeName(family.Type);
                text.Append("# TYPE ").Append(metadataName).Append(' ').Append(typeName).Append('\n');
                if (openMetrics && family.Unit is { } unit)
                {
                    text.Append("# UNIT ").Append(metadataName).Append(' ').Append(unit).Append('\n');
                }

                if (help[family.Name] is { } description)
                {
                    text.Append("# HELP ").Append(metadataName).Append(' ');
                    AppendEscaped(text, description, escapeQuotes: openMetrics);
                    text.Append('\n');
                }

                previous = family.Name;
            }

            if (family.Type == PrometheusType.Histogram)
            {
                WriteHistogram(text, metric, family, openMetrics);
            }
            else
            {
                WriteSamples(text, metric, family, openMetrics);
            }
        }

        if (openMetrics)
        {
            text.Append("# EOF\n");
        }
    }

    private static void WriteTargetInfo(StringBuilder text, Resource resource, bool openMetrics)
    {
        var labels = new List<Label>();
        foreach (var (key, value) in resource.Attributes)
        {
            labels.Add(new Label(key, PrometheusNaming.LabelName(key), PrometheusNaming.LabelValue(value)));
        }

        if (labels.Count == 0)
        {
            return;
        }

        // OpenMetrics has the info type: family "target", sample "target_info".
        text.Append(openMetrics ? "# TYPE target info\n# HELP target Target metadata\ntarget_info" : "# TYPE target_info gauge\n# HELP target_info Target metadata\ntarget_info");
        AppendLabels(text, labels, le: null);
        text.Append(" 1\n");
    }

    private static void WriteSamples(StringBuilder text, Metric metric, Family family, bool openMetrics)
    {
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var labels = Labels(family, point.Tags, dropLe: false);
            text.Append(family.Name);
            AppendLabels(text, labels, le: null);
            text.Append(' ');
            switch (metric.MetricType)
            {
                case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                    text.Append(point.GetSumLong().ToString(CultureInfo.InvariantCulture));
                    break;
                case MetricType.LongGauge:
                    text.Append(point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture));
                    break;
                case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                    text.Append(PrometheusNaming.SampleValue(point.GetSumDouble()));
                    break;
                default:
                    text.Append(PrometheusNaming.SampleValue(point.GetGaugeLastValueDouble()));
                    break;
            }

            text.Append('\n');
            if (openMetrics && family.Type == PrometheusType.Counter)
            {
                WriteCreated(text, family, labels, point.StartTime);
            }
        }
    }

    private static void WriteHistogram(StringBuilder text, Metric metric, Family family, bool openMetrics)
    {
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            // "le" belongs to the buckets: an attribute of that name would make them ambiguous, so it is dropped.
            var labels = Labels(family, point.Tags, dropLe: true);
            long cumulative = 0;
            var negativeBounds = false;
            foreach (var bucket in point.GetHistogramBuckets())
            {
                cumulative += bucket.BucketCount;
                negativeBounds |= bucket.ExplicitBound < 0;
                text.Append(family.Name).Append("_bucket");
                AppendLabels(text, labels, le: openMetrics ? PrometheusNaming.CanonicalNumber(bucket.ExplicitBound) : PrometheusNaming.SampleValue(bucket.ExplicitBound));
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            // OpenMetrics: a histogram with a negative bucket bound has no _sum, and then no _count.
            if (!(openMetrics && negativeBounds))
            {
                text.Append(family.Name).Append("_sum");
                AppendLabels(text, labels, le: null);
                text.Append(' ').Append(PrometheusNaming.SampleValue(point.GetHistogramSum())).Append('\n');

                text.Append(family.Name).Append("_count");
                AppendLabels(text, labels, le: null);
                text.Append(' ').Append(point.GetHistogramCount().ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            if (openMetrics)
            {
                WriteCreated(text, family, labels, point.StartTime);
            }
        }
    }

    /// <summary>OpenMetrics' <c>_created</c>: when the cumulative count of a counter or histogram started, in Unix seconds.</summary>
    private static void WriteCreated(StringBuilder text, Family family, List<Label> labels, DateTimeOffset start)
    {
        text.Append(family.MetadataName).Append("_created");
        AppendLabels(text, labels, le: null);
        text.Append(' ').Append(PrometheusNaming.SampleValue(start.ToUnixTimeMilliseconds() / 1000.0)).Append('\n');
    }

    /// <summary>The instrument scope's labels, then the point's attributes.</summary>
    private static List<Label> Labels(Family family, ReadOnlyTagCollection tags, bool dropLe)
    {
        var labels = new List<Label>(family.ScopeLabels.Count + tags.Count);
        labels.AddRange(family.ScopeLabels);
        foreach (var tag in tags)
        {
            var name = PrometheusNaming.LabelName(tag.Key);
            if (!(dropLe && name == "le"))
            {
                labels.Add(new Label(tag.Key, name, PrometheusNaming.LabelValue(tag.Value)));
            }
        }

        return labels;
    }

    /// <summary>
    /// <c>{a="1",b="2"}</c>, with <c>le</c> last when given. Attributes whose names sanitise to the same label are
    /// merged into one, their values joined with <c>;</c> in the ordinal order of the original names.
    /// </summary>
    private static void AppendLabels(StringBuilder text, List<Label> labels, string? le)
    {
        text.Append('{');
        var first = true;
        for (var i = 0; i < labels.Count; i++)
        {
            var name = labels[i].Name;
            if (labels.FindIndex(0, i, l => l.Name == name) >= 0)
            {
                continue; // already written with its namesakes
            }

            var namesakes = labels.FindAll(l => l.Name == name);
            var value = namesakes.Count == 1
                ? labels[i].Value
                : string.Join(';', namesakes.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Value));
            AppendLabel(text, name, value, ref first);
        }

        if (le is not null)
        {
            AppendLabel(text, "le", le, ref first);
        }

        text.Append('}');
    }

    private static void AppendLabel(StringBuilder text, string name, string value, ref bool first)
    {
        if (!first)
        {
            text.Append(',');
        }

        first = false;
        text.Append(name).Append("=\"");
        AppendEscaped(text, value, escapeQuotes: true);
        text.Append('"');
    }

    /// <summary>Backslash and line feed are escaped in HELP text; label values also escape the double quote.</summary>
    private static void AppendEscaped(StringBuilder text, string value, bool escapeQuotes)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    text.Append(@"\\");
                    break;
                case '\n':
                    text.Append(@"\n");
                    break;
                case '"' when escapeQuotes:
                    text.Append("\\\"");
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }
    }

    private readonly record struct Label(string Key, string Name, string Value);

    /// <summary>
    /// A metric stream's Prometheus name and type, and the labels of its instrument scope; for OpenMetrics, the
    /// family's name in its metadata (a counter's without <c>_total</c>) and its unit when the name ends with it.
    /// </summary>
    private sealed record Family(string Name, PrometheusType Type, List<Label> ScopeLabels, string MetadataName, string? Unit)
    {
        public static Family Of(Metric metric)
        {
            var type = PrometheusNaming.TypeOf(metric.MetricType);
            var scope = new List<Label> { new("otel_scope_name", "otel_scope_name", metric.MeterName) };
            if (!string.IsNullOrEmpty(metric.MeterVersion))
            {
                scope.Add(new Label("otel_scope_version", "otel_scope_version", metric.MeterVersion));
            }

            if (!string.IsNullOrEmpty(metric.MeterSchemaUrl))
            {
                scope.Add(new Label("otel_scope_schema_url", "otel_scope_schema_url", metric.MeterSchemaUrl));
            }

            foreach (var (key, value) in metric.MeterTags ?? [])
            {
                var name = PrometheusNaming.LabelName("otel_scope_" + key);
                if (name is not ("otel_scope_name" or "otel_scope_version" or "otel_scope_schema_url"))
                {
                    scope.Add(new Label(key, name, PrometheusNaming.LabelValue(value)));
                }
            }

            var familyName = PrometheusNaming.MetricName(metric.Name, metric.Unit, type);
            var metadataName = type == PrometheusType.Counter ? familyName[..^"_total".Length] : familyName;
            var unit = string.IsNullOrEmpty(metric.Unit) ? string.Empty : PrometheusNaming.UnitSuffix(metric.Unit);
            return new Family(familyName, type, scope, metadataName, unit.Length > 0 && metadataName.EndsWith("_" + unit, StringComparison.Ordinal) ? unit : null);
        }
    }
}
