using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

/// <summary>
/// TLS clients that stall in the middle of a big ClientHello: each holds what it sent until the handshake deadline,
/// so one address gets no more of them than <c>Tls:MaxHandshakesPerIp</c>, the rest are refused at once, and the
/// memory they hold is what the cap allows.
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(ScaleCampaignTests))]
public sealed class TlsHandshakeCampaignTests(ITestOutputHelper output) : IDisposable
{
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.2");
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task Stalled_hellos_up_to_the_per_ip_cap_are_held_the_rest_refused_and_the_memory_is_what_the_cap_allows()
    {
        // Long: the shipped cap and hellos of ~128 KiB (OpenSSL takes up to 131,396 bytes); short: a small cap.
        var cap = CampaignRun.Size(20, TlsOptions.DefaultMaxHandshakesPerIp);
        var extra = CampaignRun.Size(5, 50);
        var helloBytes = CampaignRun.Size(40_000, 131_000);
        _certificates.WritePem();
        var settings = new Dictionary<string, string>
        {
            ["EchoHost__Listeners__EchoTls__Enabled"] = "true",
            ["EchoHost__Listeners__EchoTls__Protocol"] = "Echo",
            ["EchoHost__Listeners__EchoTls__Port"] = "0",
            ["EchoHost__Listeners__EchoTls__Tls__CertificatePath"] = _certificates.CertificatePath,
            ["EchoHost__Listeners__EchoTls__Tls__KeyPath"] = _certificates.KeyPath,
            // The stalled clients stay for the whole measurement.
            ["EchoHost__Listeners__EchoTls__Tls__HandshakeTimeout"] = "00:05:00",
        };
        if (!CampaignRun.Long)
        {
            settings["EchoHost__Listeners__EchoTls__Tls__MaxHandshakesPerIp"] = cap.ToString();
        }

        await using var server = await CampaignServer.StartAsync(settings);
        var tls = new IPEndPoint(IPAddress.Loopback, await server.Process.ListenerPortAsync("EchoTls"));
        var idle = await server.WarmUpAsync();

        var stalled = new List<Socket>();
        var hello = ClientHellos.Stalled(helloBytes);
        for (var i = 0; i < cap + extra; i++)
        {
            var socket = await SocketExtensions.ConnectAsync(tls);
            await socket.SendAllAsync(hello);
            stalled.Add(socket);
        }

        var refused = await WaitForRefusedAsync(server, extra);
        var holding = ProcessStats.Of(server.Process.Id);
        var perHandshake = (holding.RssBytes - idle.RssBytes) / cap;
        output.WriteLine($"idle: {idle}; {cap} stalled hellos of {helloBytes} bytes held, {refused} refused: {holding}; ~{perHandshake / 1024} KiB each");

        Assert.Equal(extra, refused);
        Assert.Equal(extra, stalled.Count(s => s.Poll(0, SelectMode.SelectRead) && s.Available == 0));
        // ~250 KiB each measured for 128 KiB hellos; twice that, and the runtime's own growth, is the bound.
        Assert.InRange(holding.RssBytes - idle.RssBytes, long.MinValue, (cap * 2L * helloBytes) + (64L << 20));

        // Another address still gets a handshake and its echo while the first one is at its cap.
        var socketFromOther = await SocketExtensions.ConnectAsync(tls, OtherClient);
        await using (var client = new SslStream(new NetworkStream(socketFromOther, ownsSocket: true)))
        {
            await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, TestTimeouts.Token());
            var ping = "ping\n"u8.ToArray();
            await client.WriteAsync(ping);
            var back = new byte[ping.Length];
            await client.ReadExactlyAsync(back, TestTimeouts.Token());
            Assert.Equal(ping, back);
        }

        stalled.ForEach(s => s.Dispose());
    }

    /// <summary>Bounded polling until the TLS listener has counted <paramref name="expected"/> per-IP handshake refusals.</summary>
    private static async Task<double> WaitForRefusedAsync(CampaignServer server, int expected)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (true)
        {
            var refused = PrometheusSamples.Parse(await server.MetricsTextAsync())
                .Matching("echohost_connections_refused_total", ("echohost_listener", "EchoTls"), ("reason", "tls_handshakes_per_ip"))
                .Sum(s => s.Value);
            if (refused >= expected || DateTime.UtcNow > deadline)
            {
                return refused;
            }

            await Task.Delay(100);
        }
    }
}
