using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class ConnectionsEndpointTests
{
    [Fact]
    public async Task Connections_lists_open_connections_with_their_counters()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:ConnectionsEndpoint"] = "true" });
        using var http = host.CreateHttpClient();
        using var first = await SocketExtensions.ConnectAsync(host.EndPoint());
        using var second = await SocketExtensions.ConnectAsync(host.EndPoint());
        await first.AssertEchoesAsync("abc");
        await second.AssertEchoesAsync("hello");

        var connections = await http.GetFromJsonAsync<JsonElement[]>("connections");

        Assert.NotNull(connections);
        Assert.Equal(2, connections.Length);
        var byClient = connections.ToDictionary(c => c.GetProperty("remoteEndPoint").GetString()!);
        var one = byClient[first.LocalEndPoint!.ToString()!];
        var two = byClient[second.LocalEndPoint!.ToString()!];
        Assert.Equal(3, one.GetProperty("bytesIn").GetInt64());
        Assert.Equal(3, one.GetProperty("bytesOut").GetInt64());
        Assert.Equal(5, two.GetProperty("bytesIn").GetInt64());
        Assert.Equal(5, two.GetProperty("bytesOut").GetInt64());
        Assert.All(connections, c =>
        {
            Assert.Equal("Echo", c.GetProperty("listener").GetString());
            Assert.Equal("echo", c.GetProperty("protocol").GetString());
            Assert.False(string.IsNullOrEmpty(c.GetProperty("id").GetString()));
            Assert.InRange(c.GetProperty("connectedAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
            Assert.False(c.TryGetProperty("nick", out _));
        });

        first.Close();
        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed ("));
        var remaining = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("connections"))!);
        Assert.Equal(second.LocalEndPoint!.ToString(), remaining.GetProperty("remoteEndPoint").GetString());
    }

    [Fact]
    public async Task A_chat_session_shows_its_nick_and_room()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Http:ConnectionsEndpoint"] = "true",
        });
        using var http = host.CreateHttpClient();
        using var ada = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await ada.SendAsync("/nick ada");
        await ada.SendAsync("/join games");
        await ada.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));

        var connection = Assert.Single((await http.GetFromJsonAsync<JsonElement[]>("connections"))!);
        Assert.Equal("Chat", connection.GetProperty("listener").GetString());
        Assert.Equal("ada", connection.GetProperty("nick").GetString());
        Assert.Equal("games", connection.GetProperty("room").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public async Task Connections_endpoint_is_off_unless_enabled(string? setting)
    {
        // Found by review: it was on by default, and the image binds every interface, so anyone who reached the
        // HTTP port saw every client's address, nick and room.
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["EchoHost:Http:ConnectionsEndpoint"] = setting });
        using var http = host.CreateHttpClient();
        using var client = await SocketExtensions.ConnectAsync(host.EndPoint());
        await client.AssertEchoesAsync();

        using var response = await http.GetAsync("connections");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
