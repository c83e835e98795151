using System.Net;
using System.Text.Json;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>Structured logs by one environment variable, as a container would set it; every line parses.</summary>
public sealed class JsonLogTests
{
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
            ["EchoHost__Listeners__UdpEcho__Port"] = "0",
            ["EchoHost__Http__Port"] = "0",
            // Payload lines for the echo listener only: their template names none of the connection's properties.
            ["Serilog__MinimumLevel__Override__EchoHost.Echo"] = "Verbose",
        });
        var port = int.Parse((await process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex(@"""Listener"":""Echo"",.*""EndPoint"":""127\.0\.0\.1:(?<port>\d+)"""))).Groups["port"].Value);
        using (var client = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await client.AssertEchoesAsync();
        }

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
}
