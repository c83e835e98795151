using System.Net;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Discard;

/// <summary>
/// A protocol is a plug-in: a Discard protocol that only this test host registers gets a listener from configuration,
/// the shared connection pipeline (limits, metrics, log) and the same clear error for a protocol nobody registered.
/// </summary>
public sealed class DiscardProtocolTests
{
    private static Task<TestHost> StartAsync(Dictionary<string, string?> overrides) =>
        TestHost.StartAsync(overrides, builder => builder.Services.AddDiscardProtocol());

    [Fact]
    public async Task A_listener_of_a_protocol_registered_only_in_the_test_accepts_and_discards()
    {
        await using var host = await StartAsync(new()
        {
            ["EchoHost:Listeners:Sink:Protocol"] = "discard",
            ["EchoHost:Listeners:Sink:Port"] = "0",
        });
        var listener = Assert.Single(host.Listeners.All, l => l.Name == "Sink");
        Assert.Same(DiscardProtocol.Registration, listener.Protocol);

        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint("Sink"));
        await socket.SendAllAsync(new byte[64 * 1024]);
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        // Nothing comes back: the server closes its side once the client has, having sent no byte.
        Assert.Empty(await socket.ReceiveToEndAsync());
        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains(" closed ("));
        Assert.Contains("Sink", closed.Message);
    }

    [Fact]
    public async Task The_shared_limits_and_connection_metrics_apply_to_the_plug_in()
    {
        await using var host = await StartAsync(new()
        {
            ["EchoHost:Listeners:Sink:Protocol"] = "Discard",
            ["EchoHost:Listeners:Sink:Port"] = "0",
            ["EchoHost:Listeners:Sink:MaxConnections"] = "1",
        });
        using var kept = await SocketExtensions.ConnectAsync(host.EndPoint("Sink"));
        await kept.SendAllAsync("dropped\n"u8.ToArray());
        using (var refused = await SocketExtensions.ConnectAsync(host.EndPoint("Sink"), from: IPAddress.Parse("127.0.0.3")))
        {
            Assert.True(await refused.WaitForServerCloseAsync());
        }

        var refusal = await host.Logs.WaitForAsync(e => e.Message.Contains("refused"));
        Assert.Contains("connection limit reached (MaxConnections = 1)", refusal.Message);

        (string, string)[] sink = [("echohost_listener", "Sink"), ("echohost_protocol", "discard")];
        var samples = await host.ScrapeAsync();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (samples.Value("echohost_io_received_bytes_total", sink) < 8 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            samples = await host.ScrapeAsync();
        }

        Assert.Equal(1, samples.Value("echohost_connections_opened_total", sink));
        Assert.Equal(1, samples.Value("echohost_connections_active", sink));
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", [.. sink, ("reason", "max_connections")]));
        Assert.Equal(8, samples.Value("echohost_io_received_bytes_total", sink));
        Assert.Equal(0, samples.Value("echohost_io_sent_bytes_total", sink));
    }

    [Theory]
    [InlineData("Chargen", "EchoHost:Listeners:Sink:Protocol: unknown protocol 'Chargen'; use one of Discard, Echo, Chat, Irc, Web, UdpEcho")]
    [InlineData(" ", "EchoHost:Listeners:Sink:Protocol: missing; set one of Discard, Echo, Chat, Irc, Web, UdpEcho")]
    public async Task A_protocol_nobody_registered_is_one_line_listing_the_registered_names(string protocol, string expected)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var host = TestHost.Create(
                new Dictionary<string, string?> { ["EchoHost:Listeners:Sink:Protocol"] = protocol, ["EchoHost:Listeners:Sink:Port"] = "0" },
                builder => builder.Services.AddDiscardProtocol());
            await host.StartAppAsync();
        });
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Without_its_registration_the_host_does_not_know_the_protocol()
    {
        var options = new EchoHostOptions { Address = "127.0.0.1" };
        options.Listeners["Sink"] = new ListenerOptions { Protocol = "Discard", Port = 0 };

        var failure = Assert.Single(TestProtocols.Validator().Validate(null, options).Failures ?? []);

        Assert.Equal("EchoHost:Listeners:Sink:Protocol: unknown protocol 'Discard'; use one of Echo, Chat, Irc, Web, UdpEcho", failure);
    }

    [Fact]
    public void The_shared_banner_rule_asks_the_registry_which_protocols_greet()
    {
        var options = new EchoHostOptions { Address = "127.0.0.1" };
        options.Listeners["Sink"] = new ListenerOptions { Protocol = "Discard", Port = 0, Banner = "hello" };
        var validator = new EchoHostOptionsValidator(new ProtocolRegistry([.. TestProtocols.Registry.All, DiscardProtocol.Registration]));

        var failure = Assert.Single(validator.Validate(null, options).Failures ?? []);

        Assert.Equal("EchoHost:Listeners:Sink:Banner: applies to Echo listeners only; remove it from this Discard listener", failure);
    }
}
