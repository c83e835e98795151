using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Campaign;

// Inside the namespace: here a bare "Campaign" would name this namespace, not the campaign's sizes and seed.

/// <summary>
/// The "UDP flood" item of the reliability campaign: one source sends as fast as it can, far above its
/// <c>PerSourceDatagramsPerSecond</c>, while another source sends at a modest rate. The flooder is rate limited; the
/// modest source keeps getting its answers (docs/protocols.md: the limit "keeps one flooding source from starving the others").
/// </summary>
[Trait("Category", CampaignRun.Category)]
[Collection(nameof(UdpFloodCampaignTests))]
[CollectionDefinition(nameof(UdpFloodCampaignTests), DisableParallelization = true)]
public sealed class UdpFloodCampaignTests(ITestOutputHelper output)
{
    private const int PerSourceDatagramsPerSecond = 1000;

    /// <summary>Marks the modest source's datagrams, after the sequence number, so a stray datagram cannot pass for one.</summary>
    private static readonly byte[] Marker = "modest source, well under its allowance"u8.ToArray();

    /// <summary>
    /// The flooder as fast as one thread can send. On this two-core machine that is about twice what the listener's
    /// receive loop reads; what the socket's receive queue cannot hold the kernel drops from every source alike, before
    /// the per-source limit sees it, so this holds only if the queue absorbs the moments the loop is not running.
    /// </summary>
    [Fact]
    public Task A_source_flooding_as_fast_as_it_can_is_rate_limited_while_a_modest_source_gets_at_least_95_percent_of_its_datagrams_answered() =>
        FloodAsync(floodPerSecond: null);

    /// <summary>The same at 20 times the flooder's allowance, which the receive loop reads: the per-source limit alone.</summary>
    [Fact]
    public Task A_source_flooding_at_twenty_times_its_allowance_is_rate_limited_while_a_modest_source_gets_at_least_95_percent_answered() =>
        FloodAsync(floodPerSecond: 20 * PerSourceDatagramsPerSecond);

    private async Task FloodAsync(int? floodPerSecond)
    {
        var modestDatagrams = CampaignRun.Size(500, 10_000);
        var floodCap = CampaignRun.Size(50_000_000, 2_000_000_000);
        await using var host = await TestHost.StartAsync(
            UdpConfig.Listener(settings: new Dictionary<string, string?>
            {
                ["PerSourceDatagramsPerSecond"] = PerSourceDatagramsPerSecond.ToString(CultureInfo.InvariantCulture),
            }),
            // Verbose off, as in production: a line per datagram would have the log capture hold millions of entries.
            builder => builder.Logging.AddFilter("EchoHost.UdpEcho", LogLevel.Debug));
        var server = host.UdpEndPoint();
        var rng = new Random(CampaignRun.Seed);

        using var flooder = UdpTestSockets.Bind(IPAddress.Loopback);
        using var modest = UdpTestSockets.Bind(IPAddress.Parse("127.0.0.2"));

        // The flooder: a thread of its own sending small datagrams back to back (or paced) until told to stop, or the cap.
        long flooded = 0;
        using var stopFlood = new CancellationTokenSource();
        var floodPayload = new byte[32];
        rng.NextBytes(floodPayload);
        var flooding = Task.Factory.StartNew(() =>
        {
            var paced = Stopwatch.StartNew();
            for (var i = 0; i < floodCap && !stopFlood.IsCancellationRequested; i++)
            {
                while (floodPerSecond is { } perSecond && i > paced.Elapsed.TotalSeconds * perSecond)
                {
                    Thread.Sleep(1);
                }

                flooder.SendTo(floodPayload, server);
                Interlocked.Increment(ref flooded);
            }
        }, TaskCreationOptions.LongRunning);

        // The modest source's replies, by sequence number; each must be exactly what was sent.
        var payloads = Enumerable.Range(0, modestDatagrams).Select(seq =>
        {
            var payload = new byte[4 + Marker.Length + rng.Next(0, 200)];
            rng.NextBytes(payload);
            BinaryPrimitives.WriteInt32LittleEndian(payload, seq);
            Marker.CopyTo(payload, 4);
            return payload;
        }).ToArray();
        var answered = new bool[modestDatagrams];
        var answeredCount = 0;
        var wrong = new List<string>();
        using var stopReceiving = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[65_536];
            try
            {
                while (true)
                {
                    var result = await modest.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stopReceiving.Token);
                    var reply = buffer.AsSpan(0, result.ReceivedBytes);
                    var seq = reply.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(reply) : -1;
                    if (seq < 0 || seq >= modestDatagrams || !reply.SequenceEqual(payloads[seq]) || !server.Equals(result.RemoteEndPoint))
                    {
                        lock (wrong)
                        {
                            wrong.Add($"{reply.Length} bytes from {result.RemoteEndPoint}, sequence {seq}");
                        }

                        continue;
                    }

                    if (!answered[seq])
                    {
                        answered[seq] = true;
                        Interlocked.Increment(ref answeredCount);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        // Wait (bounded polling) until the flood has used up its burst many times over: the limit is biting.
        using (var timeout = new CancellationTokenSource(TestTimeouts.Default))
        {
            while (host.UdpStats("UdpEcho").Dropped(UdpDropReason.RateLimited) < 10 * PerSourceDatagramsPerSecond && !flooding.IsCompleted)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        // The modest source: one datagram, then a pause; at most about 200 a second, a fifth of its allowance.
        var clock = Stopwatch.StartNew();
        var floodedBefore = Interlocked.Read(ref flooded);
        foreach (var payload in payloads)
        {
            await modest.SendToAsync(payload, SocketFlags.None, server, TestTimeouts.Token());
            await Task.Delay(5);
        }

        var floodedDuring = Interlocked.Read(ref flooded) - floodedBefore;
        var sendingTook = clock.Elapsed;

        // A generous wait for late replies (loopback answers within milliseconds): until all are in, or none has come
        // for three seconds (bounded in all).
        using (var timeout = new CancellationTokenSource(TestTimeouts.Default))
        {
            var (seen, quietSince) = (-1, Stopwatch.StartNew());
            while (Volatile.Read(ref answeredCount) < modestDatagrams && quietSince.Elapsed < TimeSpan.FromSeconds(3))
            {
                await Task.Delay(50, timeout.Token);
                if (Volatile.Read(ref answeredCount) != seen)
                {
                    seen = Volatile.Read(ref answeredCount);
                    quietSince.Restart();
                }
            }
        }

        var floodStillOn = !flooding.IsCompleted;
        await stopFlood.CancelAsync();
        await flooding;
        await stopReceiving.CancelAsync();
        await receiving;

        var stats = await host.UdpStats("UdpEcho").SettledAsync();
        var got = Volatile.Read(ref answeredCount);
        // Sent by the two sources but never read by the listener: dropped by the kernel from the socket's full receive queue.
        var neverRead = Interlocked.Read(ref flooded) + modestDatagrams - stats.DatagramsReceived;
        output.WriteLine($"seed {CampaignRun.Seed}, flood {(floodPerSecond is { } rate ? $"paced at {rate}/s" : "unpaced")}: flooder sent {Interlocked.Read(ref flooded)} ({floodedDuring} while the modest source sent {modestDatagrams} in {sendingTook}); "
            + $"server received {stats.DatagramsReceived}, sent {stats.DatagramsSent}, rate_limited {stats.Dropped(UdpDropReason.RateLimited)}, socket errors {stats.SocketErrors}; "
            + $"never read (dropped by the kernel) {neverRead}; modest source answered {got}/{modestDatagrams}");

        Assert.True(wrong.Count == 0, $"seed {CampaignRun.Seed}: replies that match nothing sent: {string.Join("; ", wrong.Take(10))}");
        Assert.True(floodStillOn, $"seed {CampaignRun.Seed}: the flood ended (cap {floodCap}) before the modest source was done; raise the cap");
        Assert.True(floodedDuring > 10 * modestDatagrams, $"seed {CampaignRun.Seed}: the flooder sent only {floodedDuring} datagrams while the modest source sent {modestDatagrams}");
        Assert.True(stats.Dropped(UdpDropReason.RateLimited) > 0, "the flooder was never rate limited");
        Assert.True(got * 100L >= modestDatagrams * 95L,
            $"seed {CampaignRun.Seed}: the modest source got {got} of {modestDatagrams} datagrams answered ({100.0 * got / modestDatagrams:0.0} %), under 95 %; "
            + $"missing sequence numbers: {string.Join(", ", Enumerable.Range(0, modestDatagrams).Where(s => !answered[s]).Take(20))}; "
            + $"the listener read {stats.DatagramsReceived} of the {Interlocked.Read(ref flooded) + modestDatagrams} datagrams sent to it, so the kernel dropped {neverRead} "
            + "from its receive queue before the per-source limit could tell the sources apart");

        // After the flood: a new source is answered at once, and nothing went wrong in the log.
        using var after = UdpTestSockets.Bind(IPAddress.Parse("127.0.0.3"));
        var probe = "after the flood"u8.ToArray();
        Assert.Equal(probe, await after.EchoAsync(server, probe));
        var errors = host.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Level} {e.Category}: {e.Message}").ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }
}
