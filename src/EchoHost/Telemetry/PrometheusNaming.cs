using System.Globalization;
using System.Text;
using OpenTelemetry.Metrics;

namespace EchoHost.Telemetry;

internal enum PrometheusType
{
    Untyped,
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// How OpenTelemetry names, units and attributes become Prometheus names and labels, following the OpenTelemetry
/// specification's Prometheus compatibility rules as the official .NET Prometheus exporter applies them (underscore
/// escaping with unit and type suffixes), so dashboards written against that exporter work unchanged.
/// </summary>
internal static class PrometheusNaming
{
    /// <summary>Counters stay counters; gauges and UpDownCounters (non-monotonic sums) become gauges.</summary>
    public static PrometheusType TypeOf(MetricType type) => type switch
    {
        MetricType.LongSum or MetricType.DoubleSum => PrometheusType.Counter,
        MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => PrometheusType.Gauge,
        MetricType.Histogram => PrometheusType.Histogram,
        _ => PrometheusType.Untyped,
    };

    public static string TypeName(PrometheusType type) => type switch
    {
        PrometheusType.Counter => "counter",
        PrometheusType.Gauge => "gauge",
        PrometheusType.Histogram => "histogram",
        _ => "untyped",
    };

    /// <summary>
    /// The sample name: the sanitised instrument name, then the unit's suffix unless the name already ends with it,
    /// then <c>_total</c> on counters: <c>echohost.io.received</c> in <c>By</c> → <c>echohost_io_received_bytes_total</c>.
    /// </summary>
    public static string MetricName(string name, string? unit, PrometheusType type)
    {
        var result = SanitizeMetricName(name);
        var suffix = string.IsNullOrEmpty(unit) ? string.Empty : UnitSuffix(unit);
        if (suffix.Length > 0
            && !result.EndsWith(suffix, StringComparison.Ordinal)
            && !(type == PrometheusType.Counter && result.EndsWith(suffix + "_total", StringComparison.Ordinal)))
        {
            result += "_" + suffix;
        }

        if (type == PrometheusType.Counter && !result.EndsWith("_total", StringComparison.Ordinal))
        {
            result += "_total";
        }

        // EchoHost's one departure from the official exporter: Prometheus reserves _count, _sum and _bucket for
        // histogram and summary series, and promtool rejects a gauge that ends so (the runtime's dotnet.assembly.count
        // would). Such a gauge keeps its name as a prefix and gets _current.
        if (type is PrometheusType.Gauge or PrometheusType.Untyped && EndsWithReservedSuffix(result))
        {
            result += "_current";
        }

        return result;
    }

    private static bool EndsWithReservedSuffix(string name) =>
        name.EndsWith("_count", StringComparison.Ordinal) || name.EndsWith("_sum", StringComparison.Ordinal) || name.EndsWith("_bucket", StringComparison.Ordinal);

    /// <summary>
    /// Every run of characters outside <c>[a-zA-Z0-9:]</c> (underscores included) becomes one <c>_</c>; a leading
    /// digit becomes <c>_</c>.
    /// </summary>
    public static string SanitizeMetricName(string name)
    {
        var result = new StringBuilder(name.Length);
        var afterUnderscore = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (i == 0 && char.IsAsciiDigit(c))
            {
                result.Append('_');
                afterUnderscore = true;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == ':')
            {
                result.Append(c);
                afterUnderscore = false;
            }
            else if (!afterUnderscore)
            {
                result.Append('_');
                afterUnderscore = true;
            }
        }

        return result.ToString();
    }

    /// <summary>
    /// The unit as a name suffix: <c>{annotations}</c> dropped (a count of things is unitless), UCUM abbreviations
    /// spelled out (<c>s</c> → <c>seconds</c>, <c>By</c> → <c>bytes</c>), <c>a/b</c> → <c>a_per_b</c>, <c>1</c> → nothing.
    /// </summary>
    public static string UnitSuffix(string unit)
    {
        var plain = RemoveAnnotations(unit);
        var slash = plain.IndexOf('/');
        var spelled = slash >= 0 && slash < plain.Length - 1
            ? SpellOut(plain[..slash]) + "_per_" + SpellOutPer(plain[(slash + 1)..])
            : SpellOut(plain);

        var result = new StringBuilder(spelled.Length);
        var afterUnderscore = false;
        foreach (var c in spelled)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == ':')
            {
                result.Append(c);
                afterUnderscore = false;
            }
            else if (!afterUnderscore)
            {
                result.Append('_');
                afterUnderscore = true;
            }
        }

        return result.ToString().Trim('_');
    }

    /// <summary>A label name: <c>[a-zA-Z0-9_]</c> kept, other characters become <c>_</c> (not after an underscore), <c>_</c> before a leading digit.</summary>
    public static string LabelName(string key)
    {
        if (key.Length == 0)
        {
            return "_";
        }

        if (!char.IsAsciiDigit(key[0]) && key.AsSpan().IndexOfAnyExcept(LabelChars) < 0)
        {
            return key;
        }

        var result = new StringBuilder(key.Length + 1);
        var afterUnderscore = false;
        if (char.IsAsciiDigit(key[0]))
        {
            result.Append('_');
            afterUnderscore = true;
        }

        foreach (var c in key)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                result.Append(c);
                afterUnderscore = c == '_';
            }
            else if (!afterUnderscore)
            {
                result.Append('_');
                afterUnderscore = true;
            }
        }

        return result.ToString();
    }

    /// <summary>An attribute value as label text; floating-point values in Prometheus's canonical form (<c>1.0</c>, <c>1e-05</c>).</summary>
    public static string LabelValue(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        double number => CanonicalNumber(number),
        float number => CanonicalNumber(number),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>A sample value: the shortest text that reads back as the same double; <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    public static string SampleValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Go's <c>%g</c> with the shortest round-tripping digits and <c>.0</c> added to whole numbers: fixed notation for
    /// decimal exponents from -4 to 5, scientific (<c>1.5e+06</c>) outside.
    /// </summary>
    public static string CanonicalNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            return SampleValue(value);
        }

        if (value == 0)
        {
            return "0.0";
        }

        // "R" gives the shortest round-tripping digits, as plain decimal or d.dddE±x; split digits and exponent.
        var roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var mantissa = roundTrip;
        var exponent = 0;
        var e = roundTrip.IndexOf('E');
        if (e >= 0)
        {
            mantissa = roundTrip[..e];
            exponent = int.Parse(roundTrip[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        // Make the exponent that of the first significant digit.
        var point = mantissa.IndexOf('.');
        var allDigits = point >= 0 ? mantissa.Remove(point, 1) : mantissa;
        var digits = allDigits.TrimStart('0');
        exponent += (point >= 0 ? point : mantissa.Length) - 1 - (allDigits.Length - digits.Length);
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        var sign = value < 0 ? "-" : string.Empty;
        if (exponent is < -4 or >= 6)
        {
            var fraction = digits.Length > 1 ? "." + digits[1..] : string.Empty;
            return $"{sign}{digits[0]}{fraction}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }

        if (exponent < 0)
        {
            return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        }

        var whole = digits.Length > exponent + 1 ? digits[..(exponent + 1)] : digits.PadRight(exponent + 1, '0');
        var rest = digits.Length > exponent + 1 ? digits[(exponent + 1)..] : "0";
        return $"{sign}{whole}.{rest}";
    }

    private static readonly System.Buffers.SearchValues<char> LabelChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    /// <summary>Drops every <c>{…}</c> annotation; an unclosed brace stays (and is sanitised later).</summary>
    private static string RemoveAnnotations(string unit)
    {
        if (!unit.Contains('{'))
        {
            return unit;
        }

        var result = new StringBuilder(unit.Length);
        var open = -1;
        var copiedTo = 0;
        for (var i = 0; i < unit.Length; i++)
        {
            if (unit[i] == '{' && open < 0)
            {
                open = i;
            }
            else if (unit[i] == '}' && open >= 0)
            {
                result.Append(unit, copiedTo, open - copiedTo);
                copiedTo = i + 1;
                open = -1;
            }
        }

        result.Append(unit, copiedTo, unit.Length - copiedTo);
        return result.ToString();
    }

    private static string SpellOut(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" or "B" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" or "KB" => "kilobytes",
        "MBy" or "MB" => "megabytes",
        "GBy" or "GB" => "gigabytes",
        "TBy" or "TB" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => string.Empty,
        "%" => "percent",
        "$" => "dollars",
        _ => unit,
    };

    private static string SpellOutPer(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => unit,
    };
}
