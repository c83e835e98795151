using System.Globalization;
using System.Text.RegularExpressions;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A strict reader of OpenMetrics 1.0 text (promtool reads only the Prometheus text format): the structure of the
/// specification's ABNF and its rules for families, metadata, sample names per type, labels, histograms and
/// <c># EOF</c>. Returns every violation found, each naming its line.
/// </summary>
internal static partial class OpenMetricsValidator
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"];

    public static List<string> Validate(string text)
    {
        var errors = new List<string>();
        if (!text.EndsWith("# EOF\n", StringComparison.Ordinal))
        {
            errors.Add("the exposition does not end with \"# EOF\" and a line feed");
        }

        var lines = text.Split('\n');
        var seenFamilies = new HashSet<string>(StringComparer.Ordinal);
        string? family = null;
        string? type = null;
        var metadata = new HashSet<string>(StringComparer.Ordinal);
        var hadSamples = false;
        var buckets = new Dictionary<string, (double Le, double Count)>(StringComparer.Ordinal);
        var counts = new Dictionary<string, double>(StringComparer.Ordinal);

        for (var i = 0; i < lines.Length - 1; i++)
        {
            var line = lines[i];
            var at = $"line {i + 1} `{line}`";
            if (line == "# EOF")
            {
                if (i != lines.Length - 2)
                {
                    errors.Add($"{at}: # EOF before the end");
                }

                break;
            }

            if (line.StartsWith('#'))
            {
                var meta = Metadata().Match(line);
                if (!meta.Success)
                {
                    errors.Add($"{at}: not a TYPE, UNIT or HELP line (OpenMetrics has no other comments)");
                    continue;
                }

                var (kind, name, rest) = (meta.Groups["kind"].Value, meta.Groups["name"].Value, meta.Groups["rest"].Value);
                if (name != family)
                {
                    if (!seenFamilies.Add(name))
                    {
                        errors.Add($"{at}: family {name} appears twice (families must be contiguous and unique)");
                    }

                    (family, type, hadSamples) = (name, "unknown", false);
                    metadata.Clear();
                }

                if (hadSamples || !metadata.Add(kind))
                {
                    errors.Add($"{at}: {kind} after the family's samples or repeated");
                }

                switch (kind)
                {
                    case "TYPE" when !Types.Contains(rest):
                        errors.Add($"{at}: unknown type {rest}");
                        break;
                    case "TYPE":
                        type = rest;
                        break;
                    case "UNIT" when !name.EndsWith("_" + rest, StringComparison.Ordinal):
                        errors.Add($"{at}: the family name must end with its unit");
                        break;
                    case "HELP" when !ValidEscapes(rest):
                        errors.Add($"{at}: bad escape in HELP");
                        break;
                }

                continue;
            }

            var sample = Sample().Match(line);
            if (!sample.Success)
            {
                errors.Add($"{at}: not a sample line");
                continue;
            }

            var sampleName = sample.Groups["name"].Value;
            var labels = Labels(sample.Groups["labels"].Value, at, errors);
            if (!double.TryParse(sample.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && sample.Groups["value"].Value is not ("+Inf" or "-Inf" or "NaN"))
            {
                errors.Add($"{at}: value is not a number");
            }

            if (family is null || !AllowedSuffixes(type!).Any(suffix => sampleName == family + suffix))
            {
                errors.Add($"{at}: sample {sampleName} does not belong to family {family} of type {type}");
                continue;
            }

            hadSamples = true;
            var series = string.Join(',', labels.Where(l => l.Key != "le").Select(l => $"{l.Key}={l.Value}"));
            if (type == "counter" && sampleName.EndsWith("_total", StringComparison.Ordinal) && value < 0)
            {
                errors.Add($"{at}: a counter's total is negative");
            }

            if (type == "histogram" && sampleName.EndsWith("_bucket", StringComparison.Ordinal))
            {
                var le = labels.FirstOrDefault(l => l.Key == "le").Value;
                if (le is null || (le != "+Inf" && !double.TryParse(le, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                {
                    errors.Add($"{at}: a bucket needs a numeric le");
                    continue;
                }

                if (le != "+Inf" && !le.Contains('.') && !le.Contains('e'))
                {
                    errors.Add($"{at}: le {le} is not canonical (1.0, not 1)");
                }

                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                if (buckets.TryGetValue(series, out var previous) && (bound <= previous.Le || value < previous.Count))
                {
                    errors.Add($"{at}: buckets must grow in le and in count");
                }

                buckets[series] = (bound, value);
            }

            if (type == "histogram" && sampleName.EndsWith("_count", StringComparison.Ordinal))
            {
                counts[series] = value;
                if (!buckets.TryGetValue(series, out var last) || !double.IsPositiveInfinity(last.Le) || last.Count != value)
                {
                    errors.Add($"{at}: _count must follow the buckets and equal the +Inf bucket");
                }
            }
        }

        return errors;
    }

    private static IEnumerable<string> AllowedSuffixes(string type) => type switch
    {
        "counter" => ["_total", "_created"],
        "histogram" => ["_bucket", "_count", "_sum", "_created"],
        "info" => ["_info"],
        _ => [string.Empty],
    };

    private static List<KeyValuePair<string, string>> Labels(string text, string at, List<string> errors)
    {
        var labels = new List<KeyValuePair<string, string>>();
        if (text.Length == 0)
        {
            return labels;
        }

        var rest = text;
        while (rest.Length > 0)
        {
            var label = Label().Match(rest);
            if (!label.Success)
            {
                errors.Add($"{at}: bad label list at `{rest}`");
                return labels;
            }

            var name = label.Groups["name"].Value;
            if (labels.Any(l => l.Key == name))
            {
                errors.Add($"{at}: label {name} twice");
            }

            labels.Add(new(name, label.Groups["value"].Value));
            rest = rest[label.Length..];
        }

        return labels;
    }

    private static bool ValidEscapes(string text) => !InvalidEscape().IsMatch(text);

    [GeneratedRegex(@"^# (?<kind>TYPE|UNIT|HELP) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$")]
    private static partial Regex Metadata();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)( (?<timestamp>\S+))?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\\n]|\\[\\""n])*)"",?")]
    private static partial Regex Label();

    [GeneratedRegex(@"\\[^\\""n]")]
    private static partial Regex InvalidEscape();
}
