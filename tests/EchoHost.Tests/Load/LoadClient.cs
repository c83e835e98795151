using EchoHost.Tests.Infrastructure;
using System.Text.Json;
using EchoHost.Load;

namespace EchoHost.Tests.Load;

/// <summary>Runs echohost-load in-process with its output captured: the exit code, stdout and stderr as the user sees them.</summary>
internal sealed record LoadClientRun(int ExitCode, string Output, string Error)
{
    public static async Task<LoadClientRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await LoadProgram.RunAsync(args, output, error, TestTimeouts.Token(TestTimeouts.Long)).WaitAsync(TestTimeouts.Long);
        return new LoadClientRun(exit, output.ToString(), error.ToString());
    }

    /// <summary>The --json summary.</summary>
    public JsonElement Json => JsonDocument.Parse(Output).RootElement;

    public long Number(string name) => Json.GetProperty(name).GetInt64();

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";

    /// <summary>Asserts a clean run: exit 0, no error, no mismatch, and at least <paramref name="minOps"/> operations.</summary>
    public LoadClientRun AssertClean(long minOps = 1)
    {
        Assert.True(ExitCode == 0, ToString());
        Assert.Equal(0, Number("errors"));
        Assert.Equal(0, Number("mismatches"));
        Assert.True(Number("ops") >= minOps, ToString());
        return this;
    }
}
