using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// The UDP echo's instruments, once per host, on the shared <c>EchoHost</c> meter. Datagram and byte counts are read
/// from each listener's <see cref="UdpListenerStats"/> when the SDK collects (a measurement per datagram would cost
/// a tag lookup each time); drops are counted as they happen, by reason.
/// </summary>
internal sealed class UdpEchoMetrics
{
    private readonly ConcurrentDictionary<UdpListenerStats, TagList> _listeners = new(ReferenceEqualityComparer.Instance);
    private readonly Counter<long> _dropped;

    private UdpEchoMetrics(Meter meter)
    {
        meter.CreateObservableCounter("echohost.udp.datagrams.received", () => Observe(static s => s.DatagramsReceived), "{datagram}", "UDP datagrams received.");
        meter.CreateObservableCounter("echohost.udp.datagrams.sent", () => Observe(static s => s.DatagramsSent), "{datagram}", "UDP datagrams sent.");
        meter.CreateObservableCounter("echohost.udp.io.received", () => Observe(static s => s.BytesReceived), "By", "Bytes received in UDP datagrams.");
        meter.CreateObservableCounter("echohost.udp.io.sent", () => Observe(static s => s.BytesSent), "By", "Bytes sent in UDP datagrams.");
        _dropped = meter.CreateCounter<long>("echohost.udp.datagrams.dropped", "{datagram}", "UDP datagrams received but not echoed.");
    }

    /// <summary>Reports <paramref name="stats"/> as the listener of <paramref name="metrics"/>, drops by every reason from zero.</summary>
    public static UdpEchoMetrics Add(ListenerMetrics metrics, UdpListenerStats stats)
    {
        var instruments = metrics.Instruments(static meter => new UdpEchoMetrics(meter));
        instruments._listeners[stats] = metrics.Tags;
        metrics.Declare(() =>
        {
            foreach (var reason in UdpDropReasons.All)
            {
                instruments._dropped.Add(0, metrics.WithReason(UdpDropReasons.Name(reason)));
            }
        });
        return instruments;
    }

    public void Dropped(ListenerMetrics metrics, UdpDropReason reason) => _dropped.Add(1, metrics.WithReason(UdpDropReasons.Name(reason)));

    private IEnumerable<Measurement<long>> Observe(Func<UdpListenerStats, long> read)
    {
        foreach (var (stats, tags) in _listeners)
        {
            yield return new Measurement<long>(read(stats), tags);
        }
    }
}
