namespace EchoHost.Tests.Infrastructure;

internal static class RepositoryPaths
{
    /// <summary>The folder holding EchoHost.sln, found upward from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "EchoHost.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("EchoHost.sln not found above the test binaries.");
    }
}
