using System.Net;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>What a newcomer's first <c>curl http://localhost:8080/</c> and <c>/connections</c> tell them.</summary>
public sealed class HttpRootTests
{
    [Fact]
    public async Task Root_lists_the_http_endpoints_and_says_which_key_turns_connections_on()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        var lines = (await http.GetStringAsync("/", TestTimeouts.Token())).Split('\n');

        Assert.Equal($"EchoHost on {Environment.MachineName}: Echo (echo) on {host.EndPoint()}/tcp", lines[0]);
        var httpLine = Assert.Single(lines, l => l.StartsWith("HTTP ", StringComparison.Ordinal));
        foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/connections" })
        {
            Assert.Contains($" {path} (", httpLine);
        }

        Assert.Contains("/connections (off: set EchoHost:Http:ConnectionsEndpoint=true", httpLine);
    }

    [Fact]
    public async Task Root_says_connections_is_on_when_enabled()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:ConnectionsEndpoint"] = "true" });
        using var http = host.CreateHttpClient();

        var text = await http.GetStringAsync("/", TestTimeouts.Token());

        Assert.Contains(" /connections (live connections, JSON)", text);
        Assert.DoesNotContain("EchoHost:Http:ConnectionsEndpoint", text);
    }

    [Fact]
    public async Task Connections_when_off_is_a_404_that_names_the_key()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        using var response = await http.GetAsync("connections", TestTimeouts.Token());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            "/connections is off; set EchoHost:Http:ConnectionsEndpoint=true to list live connections\n",
            await response.Content.ReadAsStringAsync(TestTimeouts.Token()));
    }
}
