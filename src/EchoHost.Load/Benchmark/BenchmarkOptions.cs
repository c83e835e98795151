using System.Globalization;

namespace EchoHost.Load.Benchmark;

/// <summary>The benchmark's command line.</summary>
internal sealed record BenchmarkOptions
{
    public static readonly string[] AllRows = ["pingpong1", "pingpong64", "pingpong1k", "tls", "stream", "churn", "hold", "udp", "chat", "chat-irc", "chat-scaleout", "ws-echo", "ws-chat"];

    /// <summary>Rows that compare with another row of the same run: choosing them with --only runs that one too.</summary>
    public static readonly IReadOnlyDictionary<string, string> Needs = new Dictionary<string, string> { ["tls"] = "pingpong64", ["chat-scaleout"] = "chat", ["ws-echo"] = "pingpong64", ["ws-chat"] = "chat" };

    public int Rounds { get; init; } = 3;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The warm-up of each load in the first round. A fresh server compiles its code as the first loads reach it: a
    /// fresh EchoHost spent 3.5 s of CPU in the JIT over its first 40,000 churned connections (the bare baseline,
    /// with far less code, much less), which the first round's figures carried. Later rounds need only
    /// <see cref="Warmup"/>.
    /// </summary>
    public TimeSpan FirstWarmup { get; init; } = TimeSpan.FromSeconds(10);
    public bool Quick { get; init; }
    public bool Json { get; init; }
    public bool Progress { get; init; }
    public IReadOnlyList<string> Rows { get; init; } = AllRows;
    public int Hold { get; init; } = 10_000;
    public string EchoHostDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "EchoHost.dll");
    public string BaselineDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "EchoHost.Baseline.dll");
    public string? InspIrcd { get; init; }

    public static BenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchmarkOptions();
        bool? rounds = null, duration = null, warmup = null, firstWarmup = null, hold = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{name} needs a value");
            switch (name)
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--json":
                    options = options with { Json = true };
                    break;
                case "--progress":
                    options = options with { Progress = true };
                    break;
                case "--rounds":
                    var r = Value();
                    options = options with { Rounds = int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 100 ? n : throw new UsageException($"--rounds: '{r}' is not a whole number from 1 to 100") };
                    rounds = true;
                    break;
                case "--hold":
                    var h = Value();
                    options = options with { Hold = int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c is >= 1 and <= 60000 ? c : throw new UsageException($"--hold: '{h}' is not a whole number from 1 to 60000") };
                    hold = true;
                    break;
                case "--duration":
                    options = options with { Duration = Time(name, Value()) };
                    duration = true;
                    break;
                case "--warmup":
                    options = options with { Warmup = Time(name, Value(), allowZero: true) };
                    warmup = true;
                    break;
                case "--first-warmup":
                    options = options with { FirstWarmup = Time(name, Value(), allowZero: true) };
                    firstWarmup = true;
                    break;
                case "--only":
                    var rows = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (rows.Length == 0 || rows.FirstOrDefault(row => !AllRows.Contains(row)) is { } unknown)
                    {
                        throw new UsageException($"--only: unknown row '{rows.FirstOrDefault(row => !AllRows.Contains(row))}'; rows are {string.Join(", ", AllRows)}");
                    }

                    options = options with { Rows = AllRows.Where(row => rows.Contains(row) || rows.Any(r => Needs.GetValueOrDefault(r) == row)).ToArray() };
                    break;
                case "--echohost":
                    options = options with { EchoHostDll = Path.GetFullPath(Value()) };
                    break;
                case "--baseline":
                    options = options with { BaselineDll = Path.GetFullPath(Value()) };
                    break;
                case "--inspircd":
                    options = options with { InspIrcd = Value() };
                    break;
                default:
                    throw new UsageException($"unknown benchmark option '{name}'; see echohost-load --help");
            }
        }

        if (options.Quick)
        {
            options = options with
            {
                Rounds = rounds is null ? 1 : options.Rounds,
                Duration = duration is null ? TimeSpan.FromSeconds(1) : options.Duration,
                Warmup = warmup is null ? TimeSpan.FromMilliseconds(300) : options.Warmup,
                FirstWarmup = firstWarmup is null ? TimeSpan.FromMilliseconds(300) : options.FirstWarmup,
                Hold = hold is null ? 200 : options.Hold,
            };
        }

        return options;
    }

    private static TimeSpan Time(string name, string text, bool allowZero = false) => LoadOptionsParser.Duration(name, text, allowZero);
}
