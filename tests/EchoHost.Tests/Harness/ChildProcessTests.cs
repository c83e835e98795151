using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Harness;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Harness;

/// <summary>The shared child process runner on a shell: both output modes, the scrubbed environment, failing early.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task Captured_output_is_waited_for_line_by_line_and_scrubbed_variables_do_not_reach_the_child()
    {
        Environment.SetEnvironmentVariable("ECHOHOST_HARNESS_TEST_SECRET", "leaked");
        await using var child = ChildProcess.Start(new ChildProcessOptions("shell", "/bin/sh")
        {
            Arguments = ["-c", "echo \"secret=[$ECHOHOST_HARNESS_TEST_SECRET] given=[$GIVEN]\"; echo oops >&2"],
            ScrubbedPrefixes = ["ECHOHOST_HARNESS_TEST_"],
            Environment = new Dictionary<string, string> { ["GIVEN"] = "yes" },
        });

        var match = await child.WaitForOutputAsync(new Regex(@"secret=\[(?<secret>[^\]]*)\] given=\[(?<given>[^\]]*)\]"), TestTimeouts.Process);

        Assert.Equal("", match.Groups["secret"].Value);
        Assert.Equal("yes", match.Groups["given"].Value);
        Assert.Equal(0, await child.WaitForExitAsync(TestTimeouts.Process));
        Assert.Equal("oops", child.StandardError);
    }

    [Fact]
    public async Task A_child_that_exits_before_its_port_answers_fails_the_wait_at_once_with_the_end_of_its_log()
    {
        var folder = Directory.CreateTempSubdirectory("echohost-harness-test-");
        try
        {
            var log = Path.Combine(folder.FullName, "child.log");
            await using var child = ChildProcess.Start(new ChildProcessOptions("doomed", "/bin/sh")
            {
                Arguments = ["-c", "echo 'cannot bind'; exit 3"],
                LogFile = log,
            });

            var error = await Assert.ThrowsAsync<HarnessException>(() =>
                child.WaitForTcpAsync(new IPEndPoint(IPAddress.Loopback, SocketExtensions.FreeLoopbackPort()), TestTimeouts.Process));

            Assert.StartsWith("doomed exited with code 3 before ", error.Message);
            Assert.Contains($"its log ({log}) ends:\ncannot bind", error.Message);
            Assert.Equal("cannot bind", child.Tail());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
