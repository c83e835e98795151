using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Logging;

/// <summary>The shipped text format, as an operator reads it with two clients connected.</summary>
public sealed class ConnectionLogTextTests
{
    [Fact]
    public async Task Every_line_of_a_connection_names_it_so_two_clients_can_be_told_apart()
    {
        await using var process = HostProcess.Start([.. HostProcess.LoopbackPortZero, "--Serilog:MinimumLevel:Override:EchoHost.Echo=Verbose"]);
        // A line with no connection looks as it always did.
        await process.WaitForOutputAsync(new Regex(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INF\] Listener Echo \(echo\) listening on 127\.0\.0\.1:\d+/tcp$"));
        var port = await process.ListenerPortAsync("Echo");
        using var alpha = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        using var bravo = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));

        await alpha.AssertEchoesAsync("alpha\n");
        await bravo.AssertEchoesAsync("bravo\n");

        var alphaId = (await process.WaitForOutputAsync(Received("alpha"))).Groups["id"].Value;
        var bravoId = (await process.WaitForOutputAsync(Received("bravo"))).Groups["id"].Value;
        Assert.NotEqual(alphaId, bravoId);
        // The id is the one the connection's own lines give (which say it once, in their text, not twice).
        var accepted = await process.WaitForOutputAsync(new Regex(
            $@"^\[[^\]]+ DBG\] Echo connection (?<id>\S+) accepted from 127\.0\.0\.1:{((IPEndPoint)alpha.LocalEndPoint!).Port}$"));
        Assert.Equal(alphaId, accepted.Groups["id"].Value);

        process.Signal(HostProcess.SIGTERM);
        Assert.Equal(0, await process.WaitForExitAsync());
    }

    private static Regex Received(string text) => new($@"^\[[^\]]+ VRB\] \[(?<id>[^\]\s]+)\] received b'{text}\\n'$");
}
