using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>
/// A sink that wraps others (Serilog's <c>Logger</c> sub-logger here) yields a sink even when the one inside it is
/// misspelled: the misspelling is still a one-line configuration error, not a silent log.
/// </summary>
public sealed class NestedSinkTests
{
    private const string Advice = "is no sink Serilog can find, which would silence the log; use Console (the sink EchoHost ships), or set EchoHost:Logging:Format=Json";

    public static TheoryData<string[], string> MisspelledInside => new()
    {
        {
            ["--Serilog:WriteTo:1:Name=Logger", "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Name=Consol"],
            $"EchoHost: configuration error: Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Name: 'Consol' {Advice}"
        },
        {
            ["--Serilog:WriteTo:1:Name=Logger", "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0=Consol"],
            $"EchoHost: configuration error: Serilog:WriteTo:1:Args:configureLogger:WriteTo:0: 'Consol' {Advice}"
        },
        {
            // Two levels down.
            ["--Serilog:WriteTo:1:Name=Logger", "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Name=Logger",
             "--Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Args:configureLogger:WriteTo:0:Name=Consol"],
            $"EchoHost: configuration error: Serilog:WriteTo:1:Args:configureLogger:WriteTo:0:Args:configureLogger:WriteTo:0:Name: 'Consol' {Advice}"
        },
    };

    [Theory]
    [MemberData(nameof(MisspelledInside))]
    public async Task A_misspelled_sink_inside_a_wrapping_sink_is_one_line_and_exit_one(string[] args, string expectedLine)
    {
        await using var process = HostProcess.Start(args);

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal(expectedLine, process.StandardError.Trim());
        Assert.DoesNotContain("   at ", process.StandardOutput + process.StandardError);
    }

    [Fact]
    public async Task A_wrapping_sink_with_a_known_sink_inside_starts_and_writes_through_it()
    {
        // Every listener on a free port: the shipped ones (IRC on 6667, Web on 8081 among them) may be taken by a
        // test that runs EchoHost on its defaults, or by the user's own EchoHost.
        await using var process = HostProcess.Start(
            [.. HostProcess.LoopbackPortZero,
             "--Serilog:WriteTo:0:Name=Logger", "--Serilog:WriteTo:0:Args:configureLogger:WriteTo:0:Name=Console",
             "--Serilog:WriteTo:0:Args:configureLogger:WriteTo:0:Args:outputTemplate=nested {Message:lj}{NewLine}",
             "--Serilog:WriteTo:0:Args:configureLogger:Enrich:0=FromLogContext"]);

        await process.WaitForOutputAsync(new Regex("^nested EchoHost started", RegexOptions.Multiline));
        process.Signal(HostProcess.SIGTERM);
        Assert.Equal(0, await process.WaitForExitAsync());
    }
}
