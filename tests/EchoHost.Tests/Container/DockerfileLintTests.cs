using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Container;

public sealed class DockerfileLintTests
{
    [ToolFact(ExternalTools.NodeTools)]
    public async Task Dockerfile_utils_lint_reports_nothing()
    {
        var result = await ExternalTools.RunAsync(Repository.Path(".ci/node/node_modules/.bin/dockerfile-utils"), ["lint", Repository.Path("Dockerfile")]);

        Assert.True(result.ExitCode == 0 && result.StandardOutput.Trim().Length == 0 && result.StandardError.Trim().Length == 0,
            $"dockerfile-utils lint exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}");
    }

    [ToolFact(ExternalTools.NodeTools)]
    public async Task The_linter_does_report_a_broken_dockerfile()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"Dockerfile.broken-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(broken, "FROM scratch\nCOPY --bogus a b\n");
        try
        {
            var result = await ExternalTools.RunAsync(Repository.Path(".ci/node/node_modules/.bin/dockerfile-utils"), ["lint", broken]);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("Unknown flag: bogus", result.StandardOutput + result.StandardError);
        }
        finally
        {
            File.Delete(broken);
        }
    }
}
