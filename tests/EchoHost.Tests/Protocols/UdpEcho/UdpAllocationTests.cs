using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Protocols.UdpEcho;

/// <summary>Runs after, not alongside, every other test: it measures the whole process's allocations.</summary>
[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;

[Collection(nameof(AllocationMeasurement))]
public sealed class UdpAllocationTests(ITestOutputHelper output)
{
    private const int Warmup = 3_000;
    private const int Measured = 20_000;

    /// <summary>
    /// The smallest object is 24 bytes, so an allocation per datagram (or even every third one) cannot pass. What
    /// passes is background work spread over a window: the host's timers, and the test platform's own messages,
    /// which come in bursts — hence the best of a few windows; a real per-datagram allocation shows in every one.
    /// </summary>
    private const double MaxBytesPerDatagram = 8;
    private const int Windows = 5;

    [Fact]
    public async Task Answering_a_datagram_allocates_nothing_in_the_steady_state()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>(UdpConfig.Listener(settings: new Dictionary<string, string?>
        {
            // On, so the per-source table is on the measured path; high, so no datagram is dropped.
            ["PerSourceDatagramsPerSecond"] = "1000000",
        }))
        {
            // Verbose logging formats every payload; it is off in production and here.
            ["Logging:LogLevel:EchoHost.UdpEcho"] = "Information",
        });
        using var client = UdpTestSockets.Bind(IPAddress.Loopback);
        client.ReceiveTimeout = (int)TestTimeouts.Default.TotalMilliseconds;
        var server = host.UdpEndPoint().Serialize();
        var from = new SocketAddress(AddressFamily.InterNetwork);
        var payload = new byte[64];
        var buffer = new byte[65_536];

        // The client uses the synchronous SocketAddress overloads, which allocate nothing either.
        void RoundTrips(int count)
        {
            for (var i = 0; i < count; i++)
            {
                client.SendTo(payload, SocketFlags.None, server);
                // Not Assert.Equal: it allocates a comparer per call.
                if (client.ReceiveFrom(buffer, SocketFlags.None, from) != payload.Length)
                {
                    throw new InvalidOperationException("The reply differs in length from the datagram.");
                }
            }
        }

        RoundTrips(Warmup);
        var best = double.MaxValue;
        for (var window = 0; window < Windows && best >= MaxBytesPerDatagram; window++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            RoundTrips(Measured);
            var perDatagram = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / Measured;
            output.WriteLine($"window {window}: {perDatagram:0.00} bytes allocated in the process per datagram");
            best = Math.Min(best, perDatagram);
        }

        Assert.True(best < MaxBytesPerDatagram, $"{best:0.00} bytes allocated per datagram at best");
        Assert.Equal(0, (await host.UdpStats("UdpEcho").SettledAsync()).DroppedTotal);
    }
}
