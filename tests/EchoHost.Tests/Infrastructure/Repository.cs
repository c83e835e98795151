namespace EchoHost.Tests.Infrastructure;

/// <summary>Files of the repository the tests were built from, for tests about what ships beside the code.</summary>
internal static class Repository
{
    private static readonly Lazy<string> _root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "EchoHost.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("EchoHost.sln not found above the test binaries.");
    });

    /// <summary>The folder that holds EchoHost.sln.</summary>
    public static string Root => _root.Value;

    /// <summary>A path under the root, written with forward slashes: <c>Path("deploy/kubernetes")</c>.</summary>
    public static string Path(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative));

    /// <summary>
    /// The text of a documentation page, such as <c>Doc("docs/observability.md")</c>: tests that check a page against
    /// the code read it here, so a page that moves is repointed in one place per test.
    /// </summary>
    public static string Doc(string relative) => File.ReadAllText(Path(relative));
}
