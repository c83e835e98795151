using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Docs;

/// <summary>
/// The documentation as a whole: README.md is an entrance of at most 300 lines whose index reaches every page of docs/,
/// every relative link in README.md, ARCHITECTURE.md and docs/*.md points to a file that exists and, with an anchor, to
/// a heading of that file, and the configuration reference names every key the shipped appsettings.json sets.
/// </summary>
public sealed partial class DocumentationLinksTests
{
    public static TheoryData<string> Pages() => new(AllPages());

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_points_to_an_existing_file_and_heading(string page)
    {
        var broken = new List<string>();
        foreach (var (line, target) in Links(page))
        {
            if (Uri.TryCreate(target, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" or "mailto")
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var path = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var file = path.Length == 0 ? page : Relative(Path.Combine(Path.GetDirectoryName(page)!, path));
            if (!File.Exists(Repository.Path(file)) && !Directory.Exists(Repository.Path(file)))
            {
                broken.Add($"{page}:{line}: ({target}): {file} does not exist");
            }
            else if (anchor is not null && !Anchors(file).Contains(anchor))
            {
                broken.Add($"{page}:{line}: ({target}): {file} has no heading #{anchor}; it has {string.Join(", ", Anchors(file).Order())}");
            }
        }

        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void The_readme_is_an_entrance_whose_links_reach_every_page()
    {
        var readme = Repository.Doc("README.md").ReplaceLineEndings("\n");
        Assert.True(readme.Split('\n').Length <= 301, $"README.md has {readme.Split('\n').Length - 1} lines; at most 300, the rest belongs in docs/");

        var linked = Links("README.md").Select(l => l.Target.Split('#')[0]).Where(t => t.Length > 0).Select(Relative).ToHashSet();
        var unreachable = AllPages().Where(p => p != "README.md" && !linked.Contains(p)).ToList();
        Assert.True(unreachable.Count == 0, $"not linked from README.md: {string.Join(", ", unreachable)}");
    }

    [Fact]
    public void The_configuration_reference_names_every_key_of_the_shipped_appsettings()
    {
        var reference = Repository.Doc("docs/configuration.md");
        var settings = new ConfigurationBuilder().AddJsonFile(Repository.Path("appsettings.json")).Build();

        var missing = settings.GetSection("EchoHost").AsEnumerable()
            .Where(e => e.Value is not null)
            .Select(e => ListItem().Replace(ListenerEntry().Replace(e.Key, "…:<Name>:"), string.Empty))
            .Distinct()
            .Where(key => !reference.Contains($"| `{key}` |", StringComparison.Ordinal))
            .ToList();

        Assert.True(missing.Count == 0, $"docs/configuration.md's reference has no row for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Headings_become_the_anchors_github_gives_them()
    {
        Assert.Equal("safety-why-some-datagrams-get-no-reply", Slug("Safety: why some datagrams get no reply"));
        Assert.Equal("tls-and-the-proxy-protocol", Slug("TLS and the `PROXY` protocol"));
        Assert.Equal("docker-compose-with-prometheus-and-grafana", Slug("Docker Compose with Prometheus and Grafana"));
    }

    /// <summary>README.md, ARCHITECTURE.md and every docs/*.md, as paths from the repository root.</summary>
    private static List<string> AllPages() =>
        ["README.md", "ARCHITECTURE.md", .. Directory.GetFiles(Repository.Path("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The Markdown links and images of a page, <c>[text](target)</c>, outside fenced code blocks and code spans; a
    /// link's text may run over two lines.
    /// </summary>
    private static IEnumerable<(int Line, string Target)> Links(string page)
    {
        var lines = Repository.Doc(page).ReplaceLineEndings("\n").Split('\n');
        var fenced = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal);
            var inside = fenced || fence;
            fenced ^= fence;
            if (inside)
            {
                lines[i] = string.Empty; // keeps the line numbers
            }
        }

        var prose = CodeSpan().Replace(string.Join('\n', lines), span => new string('\n', span.Value.Count(c => c == '\n')));
        foreach (Match link in Link().Matches(prose))
        {
            yield return (prose[..link.Index].Count(c => c == '\n') + 1, link.Groups["target"].Value);
        }
    }

    /// <summary>The anchors of a page's headings, as GitHub makes them (a repeated heading gets -1, -2, …).</summary>
    private static HashSet<string> Anchors(string page)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        if (!page.EndsWith(".md", StringComparison.Ordinal))
        {
            return anchors;
        }

        var fenced = false;
        foreach (var line in Repository.Doc(page).ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }
            else if (!fenced && Heading().Match(line) is { Success: true } heading)
            {
                var slug = Slug(heading.Groups["text"].Value);
                var unique = slug;
                for (var i = 1; !anchors.Add(unique); i++)
                {
                    unique = $"{slug}-{i}";
                }
            }
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped (but - and _), each space a hyphen.</summary>
    private static string Slug(string heading)
    {
        var slug = new StringBuilder();
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    /// <summary>A path from the repository root with forward slashes, <c>..</c> resolved: <c>docs/../README.md</c> → <c>README.md</c>.</summary>
    private static string Relative(string path) =>
        Path.GetRelativePath(Repository.Root, Repository.Path(path)).Replace('\\', '/');

    [GeneratedRegex(@"\[[^\]]*\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^#{1,6} (?<text>.+?)\s*#*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^EchoHost:Listeners:[^:]+:")]
    private static partial Regex ListenerEntry();

    [GeneratedRegex(@":\d+$")]
    private static partial Regex ListItem();
}
