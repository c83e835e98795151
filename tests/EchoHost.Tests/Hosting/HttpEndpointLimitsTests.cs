using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>The HTTP endpoint has the caps and idle rule of a TCP listener, under the same keys; the budgets' keys are checked at start.</summary>
public sealed class HttpEndpointLimitsTests
{
    private static IPEndPoint Http(TestHost host) => host.Endpoints.HttpEndPoint!;

    /// <summary>A connection the endpoint has admitted: it answered a request on it (and keeps it open).</summary>
    private static async Task<Socket> AdmittedAsync(TestHost host, IPAddress? from = null)
    {
        var socket = await SocketExtensions.ConnectAsync(Http(host), from);
        await socket.SendAllAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        Assert.True(await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token()) > 0);
        return socket;
    }

    [Fact]
    public async Task Connections_over_the_per_ip_cap_are_refused_logged_and_counted_and_others_still_served()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:MaxConnectionsPerIp"] = "3" });
        var held = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await AdmittedAsync(host, IPAddress.Parse("127.0.0.2")));
        }

        using var refused = await SocketExtensions.ConnectAsync(Http(host), IPAddress.Parse("127.0.0.2"));
        Assert.True(await refused.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("Http refused 127.0.0.2:") && e.Message.Contains("per-IP limit reached (MaxConnectionsPerIp = 3)"));

        // Another address is not affected, and its scrape counts the refusal.
        var metrics = await host.ScrapeAsync();
        Assert.Equal(1, metrics.Value("echohost_connections_refused_total", ("echohost_listener", "Http"), ("reason", "per_ip")));
        held.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Connections_over_max_connections_are_refused()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:MaxConnections"] = "2" });
        using var first = await AdmittedAsync(host);
        using var second = await AdmittedAsync(host);
        using var third = await SocketExtensions.ConnectAsync(Http(host));

        Assert.True(await third.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("Http refused") && e.Message.Contains("connection limit reached (MaxConnections = 2)"));
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:IdleTimeout"] = "00:00:01" });
        using var silent = await SocketExtensions.ConnectAsync(Http(host));
        using var kept = await SocketExtensions.ConnectAsync(Http(host));
        await kept.SendAllAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        // Both the connection that never sent a request and the one idle after its response.
        Assert.True(await silent.WaitForServerCloseAsync());
        var answer = System.Text.Encoding.ASCII.GetString(await kept.ReceiveToEndAsync());
        Assert.StartsWith("HTTP/1.1 200", answer);
    }

    [Theory]
    [InlineData("EchoHost:Http:MaxConnections", "-1", "EchoHost:Http:MaxConnections: must not be negative; use 0 for no limit")]
    [InlineData("EchoHost:Http:MaxConnectionsPerIp", "-1", "EchoHost:Http:MaxConnectionsPerIp: must not be negative; use 0 for no limit")]
    [InlineData("EchoHost:Http:IdleTimeout", "-00:00:01", "EchoHost:Http:IdleTimeout: must not be negative; use 0 for no idle timeout")]
    [InlineData("EchoHost:MemoryBudgetPercent", "5", "EchoHost:MemoryBudgetPercent: 5 is out of range; use 10 to 95 (percent of the memory the GC may use), or 0 for no memory budget")]
    [InlineData("EchoHost:MemoryBudgetBytes", "1000", "EchoHost:MemoryBudgetBytes: 1000 is too small; use at least 16777216 (16 MiB), or remove it to use MemoryBudgetPercent")]
    [InlineData("EchoHost:DescriptorReserve", "0", "EchoHost:DescriptorReserve: 0 is too small; use at least 32: at the open-file limit itself the .NET runtime aborts")]
    public async Task Bad_limits_fail_the_start_with_the_key(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var host = TestHost.Create(new Dictionary<string, string?> { [key] = value });
            await host.StartAppAsync();
        });
        Assert.Contains(expected, error.Message);
    }
}
