using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// Handshakes in progress are bounded per client IP and per listener (a stalled ClientHello holds ~250 KiB until the
/// deadline), and failed handshakes and TLS sessions are told apart by what really happened.
/// </summary>
public sealed class TlsHandshakeLimitsTests : IDisposable
{
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.2");
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    private async Task<TestHost> StartTlsEchoAsync(Dictionary<string, string?> more)
    {
        _certificates.WritePem();
        var config = _certificates.PemConfig();
        foreach (var (key, value) in more)
        {
            config[key] = value;
        }

        return await TestHost.StartAsync(config);
    }

    private static async Task<SslStream> HandshakeAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var tls = new SslStream(new NetworkStream(await SocketExtensions.ConnectAsync(endPoint, from), ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, TestTimeouts.Token());
        return tls;
    }

    private static async Task AssertEchoesAsync(SslStream tls)
    {
        var ping = "ping\n"u8.ToArray();
        await tls.WriteAsync(ping);
        var back = new byte[ping.Length];
        await tls.ReadExactlyAsync(back, TestTimeouts.Token());
        Assert.Equal(ping, back);
    }

    private static async Task<double> RefusedAsync(TestHost host, string reason) =>
        (await host.ScrapeAsync()).Matching("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", reason))
            .Sum(s => s.Value);

    /// <summary>Bounded polling until the listener has counted <paramref name="count"/> refusals for <paramref name="reason"/>.</summary>
    private static async Task WaitForRefusedAsync(TestHost host, string reason, double count)
    {
        var stop = TestTimeouts.Token();
        while (await RefusedAsync(host, reason) < count)
        {
            await Task.Delay(50, stop);
        }
    }

    /// <summary>Stalled hellos (all of a 40 KiB hello but its last byte, in three records) from <paramref name="from"/>.</summary>
    private static async Task<List<Socket>> StallAsync(TestHost host, int count, IPAddress? from = null)
    {
        var stalled = new List<Socket>();
        for (var i = 0; i < count; i++)
        {
            var socket = await SocketExtensions.ConnectAsync(host.EndPoint(), from);
            await socket.SendAllAsync(ClientHellos.Stalled(40_000));
            stalled.Add(socket);
        }

        return stalled;
    }

    /// <summary>Bounded polling until exactly <paramref name="closed"/> of <paramref name="sockets"/> were closed by the server.</summary>
    private static async Task<List<Socket>> WaitUntilClosedAsync(List<Socket> sockets, int closed)
    {
        var stop = TestTimeouts.Token();
        while (true)
        {
            var gone = sockets.Where(s => s.Poll(0, SelectMode.SelectRead) && s.Available == 0).ToList();
            if (gone.Count >= closed)
            {
                Assert.Equal(closed, gone.Count);
                return gone;
            }

            await Task.Delay(50, stop);
        }
    }

    [Fact]
    public async Task Stalled_hellos_beyond_the_per_ip_limit_are_refused_at_once_and_another_client_still_gets_in()
    {
        await using var host = await StartTlsEchoAsync(new()
        {
            ["EchoHost:Listeners:Echo:Tls:MaxHandshakesPerIp"] = "5",
            ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:05:00",
        });

        var stalled = await StallAsync(host, 12);
        await WaitForRefusedAsync(host, "tls_handshakes_per_ip", 7);
        var refused = await WaitUntilClosedAsync(stalled, 7);
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshakes in progress from this IP at the limit (Tls:MaxHandshakesPerIp = 5)"));
        Assert.Equal(7, await RefusedAsync(host, "tls_handshakes_per_ip"));
        Assert.Equal(0, await RefusedAsync(host, "tls_handshakes"));

        // The five held are still waiting for the rest of their hello; a client from another address is not held up.
        Assert.Equal(5, stalled.Except(refused).Count(s => !(s.Poll(0, SelectMode.SelectRead) && s.Available == 0)));
        await using (var other = await HandshakeAsync(host.EndPoint(), OtherClient))
        {
            await AssertEchoesAsync(other);
        }

        // A place frees when a stalled client goes: the same address gets a handshake again.
        stalled.Except(refused).First().Dispose();
        await WaitForHandshakeAsync(host, from: null);
        stalled.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Stalled_handshakes_count_against_the_memory_budget_until_they_end()
    {
        await using var host = await StartTlsEchoAsync(new()
        {
            ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:05:00",
        });
        var budget = host.Services.GetRequiredService<MemoryBudget>();

        // The native memory a stalled hello holds is out of the GC's sight: the budget counts it per handshake.
        var stalled = await StallAsync(host, 5);
        await WaitForAsync(() => budget.OutsideHeapBytes == 5 * TlsHandshakeMemory.BytesPerHandshake);

        // A handshake that ends (here: its client goes) no longer counts; neither does an established session.
        stalled.ForEach(s => s.Dispose());
        await using (var tls = await HandshakeAsync(host.EndPoint()))
        {
            await AssertEchoesAsync(tls);
            await WaitForAsync(() => budget.OutsideHeapBytes == 0);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var stop = TestTimeouts.Token();
        while (!condition())
        {
            await Task.Delay(50, stop);
        }
    }

    [Fact]
    public async Task Stalled_hellos_beyond_the_listener_limit_are_refused_whatever_their_address()
    {
        await using var host = await StartTlsEchoAsync(new()
        {
            ["EchoHost:Listeners:Echo:Tls:MaxHandshakes"] = "4",
            ["EchoHost:Listeners:Echo:Tls:MaxHandshakesPerIp"] = "0",
            ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:05:00",
        });

        // Six from two addresses; which four get in depends on the order the server takes them in.
        var stalled = (await StallAsync(host, 4)).Concat(await StallAsync(host, 2, OtherClient)).ToList();
        await WaitForRefusedAsync(host, "tls_handshakes", 2);
        var refused = await WaitUntilClosedAsync(stalled, 2);
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshakes in progress at the listener's limit (Tls:MaxHandshakes = 4)"));
        Assert.Equal(2, await RefusedAsync(host, "tls_handshakes"));
        Assert.Equal(0, await RefusedAsync(host, "tls_handshakes_per_ip"));

        stalled.Except(refused).First().Dispose();
        await WaitForHandshakeAsync(host, OtherClient);
        stalled.ForEach(s => s.Dispose());
    }

    /// <summary>A real client's handshake, tried until a place is free (the server notices a closed stalled client a moment later).</summary>
    private static async Task WaitForHandshakeAsync(TestHost host, IPAddress? from)
    {
        var stop = TestTimeouts.Token();
        while (true)
        {
            try
            {
                await using var tls = await HandshakeAsync(host.EndPoint(), from);
                await AssertEchoesAsync(tls);
                return;
            }
            catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException && !stop.IsCancellationRequested)
            {
                await Task.Delay(50, stop);
            }
        }
    }

    /// <summary>
    /// A TLS 1.2 ClientHello spread over several records, stalled before its end: .NET reads the first record alone
    /// and reports that record header's version, TLS 1.0, as the offer. It is a timeout, not an old protocol.
    /// </summary>
    [Fact]
    public async Task A_stalled_hello_spread_over_several_records_is_a_timeout_not_an_old_protocol()
    {
        await using var host = await StartTlsEchoAsync(new() { ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:00:00.500" });
        using var stalled = await SocketExtensions.ConnectAsync(host.EndPoint());
        await stalled.SendAllAsync(ClientHellos.Stalled(40_000));

        Assert.True(await stalled.WaitForServerCloseAsync());
        var line = await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed"));
        Assert.DoesNotContain("TLS 1.0", line.Message);
        Assert.Contains("within the handshake timeout", line.Message);
        Assert.Equal(1, await RefusedAsync(host, "tls_handshake_timeout"));
        Assert.Equal(0, await RefusedAsync(host, "tls_protocol"));
    }

    [Fact]
    public async Task A_hello_spread_over_several_records_cut_short_is_a_failed_handshake_not_an_old_protocol()
    {
        await using var host = await StartTlsEchoAsync(new() { ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:05:00" });
        using var cut = await SocketExtensions.ConnectAsync(host.EndPoint());
        await cut.SendAllAsync(ClientHellos.Records(40_000)[0]);
        cut.Shutdown(SocketShutdown.Send);

        Assert.True(await cut.WaitForServerCloseAsync());
        var line = await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed"));
        Assert.DoesNotContain("TLS 1.0", line.Message);
        Assert.Equal(1, await RefusedAsync(host, "tls_handshake_failed"));
        Assert.Equal(0, await RefusedAsync(host, "tls_protocol"));
    }
}
