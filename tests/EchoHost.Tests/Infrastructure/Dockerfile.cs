using System.Text.Json;
using System.Text.RegularExpressions;

namespace EchoHost.Tests.Infrastructure;

/// <summary>One Dockerfile instruction: keyword, flags such as <c>--from=build</c>, and arguments.</summary>
internal sealed record DockerInstruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments)
{
    /// <summary>The exec form <c>["./EchoHost", "--health"]</c> as a list; null when the shell form is used.</summary>
    public IReadOnlyList<string>? ExecForm(string arguments)
    {
        var trimmed = arguments.Trim();
        return trimmed.StartsWith('[') ? JsonSerializer.Deserialize<List<string>>(trimmed) : null;
    }
}

/// <summary>
/// Just enough of a Dockerfile reader to reproduce its build and run steps without an engine: line continuations,
/// comments, stages, flags, exec forms and <c>ENV</c> pairs.
/// </summary>
internal sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<IReadOnlyList<DockerInstruction>> stages) => Stages = stages;

    /// <summary>Instructions per stage, each stage starting with its FROM.</summary>
    public IReadOnlyList<IReadOnlyList<DockerInstruction>> Stages { get; }

    public IReadOnlyList<DockerInstruction> Final => Stages[^1];

    public static Dockerfile Load(string path)
    {
        var stages = new List<List<DockerInstruction>>();
        var logical = new System.Text.StringBuilder();
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#') || (line.Length == 0 && logical.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                logical.Append(line[..^1]).Append(' ');
                continue;
            }

            logical.Append(line);
            var instruction = Parse(logical.ToString());
            logical.Clear();
            if (instruction.Keyword == "FROM")
            {
                stages.Add([]);
            }

            stages[^1].Add(instruction);
        }

        return new Dockerfile(stages);
    }

    private static DockerInstruction Parse(string line)
    {
        var match = InstructionPattern().Match(line.Trim());
        var keyword = match.Groups["keyword"].Value.ToUpperInvariant();
        var rest = match.Groups["rest"].Value;
        var flags = new Dictionary<string, string>();
        while (FlagPattern().Match(rest) is { Success: true } flag && keyword != "RUN")
        {
            flags[flag.Groups["name"].Value] = flag.Groups["value"].Value;
            rest = rest[flag.Length..];
        }

        return new DockerInstruction(keyword, flags, rest.Trim());
    }

    /// <summary><c>ENV a=b c="d e"</c> (or the legacy <c>ENV a b</c>) of a stage, in order.</summary>
    public static IEnumerable<KeyValuePair<string, string>> EnvironmentOf(IEnumerable<DockerInstruction> stage)
    {
        foreach (var env in stage.Where(i => i.Keyword == "ENV"))
        {
            if (!env.Arguments.Contains('='))
            {
                var space = env.Arguments.IndexOf(' ');
                yield return new(env.Arguments[..space], env.Arguments[(space + 1)..].Trim());
                continue;
            }

            foreach (Match pair in EnvPairPattern().Matches(env.Arguments))
            {
                var value = pair.Groups["value"].Value;
                yield return new(pair.Groups["key"].Value, value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value);
            }
        }
    }

    /// <summary>Every <c>EXPOSE</c> of the final stage as (port, protocol).</summary>
    public IEnumerable<(int Port, string Protocol)> ExposedPorts() =>
        Final.Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Split('/'))
            .Select(p => (int.Parse(p[0]), p.Length > 1 ? p[1].ToLowerInvariant() : "tcp"));

    [GeneratedRegex(@"^(?<keyword>[A-Za-z]+)\s+(?<rest>.*)$")]
    private static partial Regex InstructionPattern();

    [GeneratedRegex(@"^--(?<name>[a-z-]+)=(?<value>\S+)\s+")]
    private static partial Regex FlagPattern();

    [GeneratedRegex("(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\"[^\"]*\"|\\S+)")]
    private static partial Regex EnvPairPattern();
}
