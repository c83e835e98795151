using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>What a user sees running EchoHost in a terminal, where the console sink colours its lines.</summary>
public sealed partial class ConsoleColourTests
{
    /// <summary>
    /// The built binary on a pseudo-terminal (util-linux's script), with the shipped configuration. The colours must
    /// travel with their text through the batching writer: the console sink's default theme set
    /// <see cref="Console.ForegroundColor"/>, which .NET writes to the terminal at once, so every colour code arrived
    /// ahead of the line it was for, and the lines came uncoloured.
    /// </summary>
    [ToolFact(ExternalTools.Script)]
    public async Task In_a_terminal_each_line_carries_its_own_colours()
    {
        var command = string.Join(' ', new[] { "dotnet", HostProcess.HostDll }.Concat(HostProcess.LoopbackPortZero).Select(a => $"'{a}'"));
        await using var terminal = InteractiveTool.Start("script", "-qfec", command, "/dev/null");
        var output = Encoding.UTF8.GetString(await terminal.WaitForTextAsync("EchoHost started"));

        var started = output.Split('\n').First(line => line.Contains("EchoHost started"));
        Assert.Matches(ColouredLevel(), started);
    }

    /// <summary>The same for a Console sink inside a wrapping sink (a Logger sub-logger), next to the shipped one.</summary>
    [ToolFact(ExternalTools.Script)]
    public async Task In_a_terminal_a_console_inside_a_wrapping_sink_colours_its_lines_too()
    {
        string[] nested =
        [
            "--Serilog:WriteTo:1:Name=Logger",
            "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Name=Console",
            "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Args:outputTemplate=nested {Level:u3} {Message:lj}{NewLine}",
        ];
        var command = string.Join(' ', new[] { "dotnet", HostProcess.HostDll }.Concat(HostProcess.LoopbackPortZero).Concat(nested).Select(a => $"'{a}'"));
        await using var terminal = InteractiveTool.Start("script", "-qfec", command, "/dev/null");
        static bool NestedStarted(string line) => line.Contains("nested") && line.Contains("EchoHost started");
        var output = Encoding.UTF8.GetString(await terminal.WaitForOutputAsync(o => Encoding.UTF8.GetString(o).Split('\n').Any(NestedStarted)));

        var started = output.Split('\n').First(NestedStarted);
        Assert.Matches(ColouredLevel(), started);
    }

    /// <summary>The level, in a colour of its own: an escape sequence right before INF.</summary>
    [GeneratedRegex(@"\u001b\[[0-9;]*mINF")]
    private static partial Regex ColouredLevel();
}
