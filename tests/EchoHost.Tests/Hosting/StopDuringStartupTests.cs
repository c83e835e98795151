using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>A stop requested while the host is still starting (Ctrl+C in the first half second) is a stop, not a failure.</summary>
public sealed class StopDuringStartupTests
{
    /// <summary>
    /// SIGTERM (not SIGINT, which a background child may ignore) as soon as the host says it is starting: the generic
    /// host logs "Hosting starting" (at Debug, turned on here) just before it registers its signal handlers, and the
    /// line reaches the test only after the log's batching delay, so the signal lands in the hosted services' start.
    /// A few tries, so at least one lands before "EchoHost started" on a fast machine too.
    /// </summary>
    [Fact]
    public async Task Sigterm_during_start_up_exits_zero_with_a_lifecycle_line_and_no_failure()
    {
        var duringStartUp = 0;
        var outcomes = new List<string>();
        for (var attempt = 0; attempt < 5 && duringStartUp == 0; attempt++)
        {
            await using var process = HostProcess.Start([.. HostProcess.LoopbackPortZero, "--Serilog:MinimumLevel:Override:Microsoft.Extensions.Hosting=Debug"]);
            await process.WaitForOutputAsync(new Regex("Hosting starting"));
            process.Signal(HostProcess.SIGTERM);
            var exitCode = await process.WaitForExitAsync();
            outcomes.Add($"exit {exitCode}\nstdout:\n{process.StandardOutput}\nstderr:\n{process.StandardError}");

            Assert.DoesNotContain("failed to start", process.StandardError);
            Assert.True(exitCode == 0, outcomes[^1]);
            if (!process.StandardOutput.Contains("EchoHost started"))
            {
                duringStartUp++;
                Assert.Contains("EchoHost stopped during start-up: a stop was requested before it had started", process.StandardOutput);
            }
        }

        Assert.True(duringStartUp > 0, $"no SIGTERM landed during start-up in {outcomes.Count} tries:\n{string.Join("\n---\n", outcomes)}");
    }
}
