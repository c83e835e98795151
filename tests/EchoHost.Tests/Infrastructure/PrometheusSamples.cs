using System.Globalization;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>One sample line of Prometheus text: its name, labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The series as written, such as <c>a_total{x="1"}</c>, with labels sorted: a stable key.</summary>
    public string Series => $"{Name}{{{string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\""))}}}";
}

/// <summary>The samples of a Prometheus text exposition (the subset of the format EchoHost writes).</summary>
internal sealed class PrometheusSamples
{
    private PrometheusSamples(IReadOnlyList<PrometheusSample> samples) => All = samples;

    public IReadOnlyList<PrometheusSample> All { get; }

    public static PrometheusSamples Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var brace = line.IndexOf('{');
            var name = line[..brace];
            var labels = new Dictionary<string, string>();
            var i = brace + 1;
            while (line[i] != '}')
            {
                var equals = line.IndexOf('=', i);
                var key = line[i..equals];
                var value = new StringBuilder();
                i = equals + 2; // past ="
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels[key] = value.ToString();
                i++; // past the closing quote
                if (line[i] == ',')
                {
                    i++;
                }
            }

            var number = line[(i + 2)..];
            var parsed = number switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(number, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(name, labels, parsed));
        }

        return new PrometheusSamples(samples);
    }

    /// <summary>The value of the one sample named <paramref name="name"/> that has all of <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        Assert.Single(Matching(name, labels)).Value;

    public IEnumerable<PrometheusSample> Matching(string name, params (string Key, string Value)[] labels) =>
        All.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    /// <summary>Series whose value differs from <paramref name="before"/> (or that are new), with the difference.</summary>
    public IReadOnlyDictionary<string, double> ChangesSince(PrometheusSamples before)
    {
        var old = before.All.ToDictionary(s => s.Series, s => s.Value);
        return All.Where(s => !old.TryGetValue(s.Series, out var value) || value != s.Value)
            .ToDictionary(s => s.Series, s => s.Value - old.GetValueOrDefault(s.Series));
    }
}
