namespace EchoHost.Tests.Infrastructure;

/// <summary>Programs some tests run (promtool, prometheus), found on PATH.</summary>
internal static class ExternalProgram
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>
/// A fact that needs a program on PATH: skipped with the install command when it is absent. CI installs it (see
/// .ci/run) and fails on any skip, so the test always runs there.
/// </summary>
internal sealed class RequiresProgramFactAttribute : FactAttribute
{
    public RequiresProgramFactAttribute(string program, string debianPackage)
    {
        if (ExternalProgram.Find(program) is null)
        {
            Skip = $"{program} is not on PATH; install it with: sudo apt-get install -y {debianPackage}";
        }
    }
}
