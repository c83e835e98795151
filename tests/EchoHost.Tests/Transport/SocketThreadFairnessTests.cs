using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Transport;

/// <summary>
/// An echo listener runs its handler on the socket engine's thread (Transport/InlineSocketListener). Without a budget
/// that is unfair: a client that never stops sending always has data waiting, so its connection never gives the thread
/// back, and every other connection of that thread waits (measured before the budget: one of 8 streaming connections
/// echoed 309 MB in 5 s, another 4 MB). Counted here, never timed: while streaming connections are echoed a fixed
/// amount, a ping-ponging connection must complete round trips in proportion, as it does when each connection gets
/// its turn. The host is a child process, so the test's own sockets do not share its socket engine.
/// </summary>
public sealed class SocketThreadFairnessTests
{
    private const int Streams = 4;
    private const int Chunk = 64 * 1024;

    /// <summary>What the streams must have echoed, all together, while the ping-pong is counted.</summary>
    private const long StreamedBytes = 256L << 20;

    /// <summary>
    /// Round trips owed meanwhile: one for every 4 MiB streamed, where a fair turn (at most 64 KiB per connection) gives
    /// the ping-pong one for every 256 KiB of four streams. Before the budget it completed a handful.
    /// </summary>
    private const long MinRoundTrips = StreamedBytes / (4 << 20);

    [Fact]
    public async Task Connections_that_never_stop_sending_do_not_starve_one_that_ping_pongs()
    {
        await using var host = HostProcess.Start([.. HostProcess.LoopbackPortZero, "--EchoHost:Listeners:Echo:MaxConnectionsPerIp=0"]);
        var endPoint = new IPEndPoint(IPAddress.Loopback, await host.ListenerPortAsync("Echo"));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestTimeouts.Token(TestTimeouts.Long));
        var echoed = new long[1];
        var streams = Enumerable.Range(0, Streams).Select(_ => StreamAsync(endPoint, echoed, stop.Token)).ToList();
        using var pinger = await SocketExtensions.ConnectAsync(endPoint);
        await pinger.AssertEchoesAsync();

        // Round trips counted from the moment every stream is running flat out.
        while (Interlocked.Read(ref echoed[0]) < 16 * Chunk * Streams)
        {
            await Task.Delay(10, stop.Token);
        }

        var message = new byte[64];
        Random.Shared.NextBytes(message);
        var start = Interlocked.Read(ref echoed[0]);
        long roundTrips = 0;
        while (Interlocked.Read(ref echoed[0]) - start < StreamedBytes)
        {
            await pinger.SendAllAsync(message, stop.Token);
            Assert.Equal(message, await pinger.ReceiveExactlyAsync(message.Length, stop.Token));
            roundTrips++;
        }

        var streamed = Interlocked.Read(ref echoed[0]) - start;
        await stop.CancelAsync();
        await Task.WhenAll(streams);
        Assert.True(roundTrips >= MinRoundTrips,
            $"the ping-pong completed {roundTrips} round trips while {Streams} streams were echoed {streamed >> 20} MiB; a fair share is at least {MinRoundTrips}");
    }

    /// <summary>Sends 64 KiB writes as fast as the server takes them and reads the echo, counting it, until stopped.</summary>
    private static async Task StreamAsync(IPEndPoint endPoint, long[] echoed, CancellationToken stop)
    {
        using var socket = await SocketExtensions.ConnectAsync(endPoint);
        var chunk = new byte[Chunk];
        Random.Shared.NextBytes(chunk);
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[Chunk];
            try
            {
                while (await socket.ReceiveAsync(buffer, stop) is > 0 and var n)
                {
                    Interlocked.Add(ref echoed[0], n);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        try
        {
            while (true)
            {
                await socket.SendAsync(chunk, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await reader;
    }
}
