namespace EchoHost.Tests.Infrastructure;

/// <summary>Files of the repository the tests were built from (they check that the shipped files tell the truth).</summary>
internal static class Repository
{
    /// <summary>The folder holding EchoHost.sln, above the test binaries.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EchoHost.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("EchoHost.sln not found above the test binaries.");
        }
    }

    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath);
}
