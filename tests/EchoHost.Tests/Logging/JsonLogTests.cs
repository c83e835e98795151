using System.Net;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>Structured logs by one environment variable, as a container would set it; every line parses.</summary>
public sealed class JsonLogTests
{
    /// <summary>
    /// A JSON shape of one's own is configuration too, no code: a Console sink whose formatter is a Serilog.Expressions
    /// template (docs/operations.md shows it), here a second console beside the text one.
    /// </summary>
    [Fact]
    public async Task A_serilog_expressions_template_in_the_serilog_section_shapes_the_lines()
    {
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero, new Dictionary<string, string>
        {
            ["Serilog__WriteTo__1__Name"] = "Console",
            ["Serilog__WriteTo__1__Args__formatter__type"] = "Serilog.Templates.ExpressionTemplate, Serilog.Expressions",
            ["Serilog__WriteTo__1__Args__formatter__template"] = "{ {time: @t, level: @l, text: @m, listener: Listener, connection: ConnectionId} }\n",
        });
        await EchoOnceAsync(process, @"""text"":""Listener Echo \(echo\) listening on 127\.0\.0\.1:(?<port>\d+)/tcp"",""listener"":""Echo""");

        var closed = await process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex(@"^\{""time"".*closed \(closed by client\).*$", System.Text.RegularExpressions.RegexOptions.Multiline));
        var line = JsonDocument.Parse(closed.Value).RootElement;
        Assert.Equal(["time", "level", "text", "listener", "connection"], line.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Information", line.GetProperty("level").GetString());
        Assert.Equal("Echo", line.GetProperty("listener").GetString());
        Assert.StartsWith($"Echo connection {line.GetProperty("connection").GetString()} from 127.0.0.1:", line.GetProperty("text").GetString());
        // The text console beside it still writes its own lines.
        Assert.Matches(@"(?m)^\[\d{4}-\d\d-\d\d [\d:.]+ INF\]\S* Echo connection \S+ from 127\.0\.0\.1:\d+ closed \(closed by client\)", process.StandardOutput);
    }

    [Fact]
    public async Task One_variable_makes_every_line_a_json_object_with_the_message_its_template_and_every_property()
    {
        await using var process = HostProcess.Start([], new Dictionary<string, string>
        {
            ["EchoHost__Logging__Format"] = "Json",
            ["EchoHost__Address"] = "127.0.0.1",
            ["EchoHost__Listeners__Echo__Port"] = "0",
            ["EchoHost__Listeners__Chat__Port"] = "0",
            ["EchoHost__Listeners__Irc__Port"] = "0",
            ["EchoHost__Listeners__Web__Port"] = "0",
            ["EchoHost__Listeners__UdpEcho__Port"] = "0",
            ["EchoHost__Http__Port"] = "0",
            // Payload lines for the echo listener only: their template names none of the connection's properties.
            ["Serilog__MinimumLevel__Override__EchoHost.Echo"] = "Verbose",
        });
        await EchoOnceAsync(process, @"""Listener"":""Echo"",.*""EndPoint"":""127\.0\.0\.1:(?<port>\d+)""");

        await process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex(@"closed \(closed by client\)"));
        process.Signal(HostProcess.SIGTERM);
        Assert.Equal(0, await process.WaitForExitAsync());

        var lines = process.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(lines, line =>
        {
            Assert.True(DateTimeOffset.TryParse(line.GetProperty("Timestamp").GetString(), out _));
            Assert.Contains(line.GetProperty("Level").GetString(), new[] { "Verbose", "Debug", "Information", "Warning", "Error" });
            Assert.False(string.IsNullOrEmpty(line.GetProperty("MessageTemplate").GetString()));
            Assert.False(string.IsNullOrEmpty(line.GetProperty("Message").GetString()));
        });

        // The Serilog section's levels still apply: Verbose for EchoHost.Echo as overridden, Information elsewhere
        // (Kestrel would write Debug lines about the same connection).
        Assert.All(lines.Where(l => l.GetProperty("Level").GetString() is "Verbose" or "Debug"),
            line => Assert.Equal("EchoHost.Echo", line.GetProperty("Properties").GetProperty("SourceContext").GetString()));
        Assert.Contains(lines, l => l.GetProperty("MessageTemplate").GetString()!.Contains("accepted from", StringComparison.Ordinal));

        var closed = Assert.Single(lines, l => l.GetProperty("MessageTemplate").GetString()!.Contains("closed ({Reason})", StringComparison.Ordinal));
        var properties = closed.GetProperty("Properties");
        Assert.Equal("Echo", properties.GetProperty("Listener").GetString());
        Assert.StartsWith("127.0.0.1:", properties.GetProperty("RemoteEndPoint").GetString());
        Assert.Equal("closed by client", properties.GetProperty("Reason").GetString());
        var id = properties.GetProperty("ConnectionId").GetString();
        Assert.StartsWith($"Echo connection {id} from {properties.GetProperty("RemoteEndPoint").GetString()} closed (closed by client) after ",
            closed.GetProperty("Message").GetString());

        // A line whose template has none of the connection's properties still carries them: they come from its scope.
        var received = lines.First(l => l.GetProperty("MessageTemplate").GetString() == "received {Payload}");
        string? Scoped(string name) =>
            received.GetProperty("Properties").TryGetProperty(name, out var value) ? value.GetString() : throw new Xunit.Sdk.XunitException($"no {name} on {received}");
        Assert.Equal("Echo", Scoped("Listener"));
        Assert.Equal(id, Scoped("ConnectionId"));
        Assert.Equal(properties.GetProperty("RemoteEndPoint").GetString(), Scoped("RemoteEndPoint"));
    }

    /// <summary>One echo on the listener whose port the line matching <paramref name="portLine"/> (group <c>port</c>) names.</summary>
    private static async Task EchoOnceAsync(HostProcess process, string portLine)
    {
        var port = int.Parse((await process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex(portLine))).Groups["port"].Value);
        using var client = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.AssertEchoesAsync();
    }
}
