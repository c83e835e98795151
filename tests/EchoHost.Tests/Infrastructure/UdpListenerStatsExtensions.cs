using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Infrastructure;

internal static class UdpListenerStatsExtensions
{
    /// <summary>
    /// Waits (bounded polling) until every datagram received is counted as answered or dropped: a reply can reach
    /// the client a moment before the server counts it as sent.
    /// </summary>
    public static async Task<UdpListenerStats> SettledAsync(this UdpListenerStats stats)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (stats.DatagramsSent + stats.DroppedTotal + stats.SocketErrors < stats.DatagramsReceived)
        {
            await Task.Delay(10, timeout.Token);
        }

        return stats;
    }
}
