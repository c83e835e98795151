using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// Decides, for one UDP listener, whether a datagram is answered. The rules keep an echo service from being used as
/// a weapon: no reply to a port that may answer back (the echo–chargen loop, CVE-1999-0103), none to an address no
/// real peer has, none bigger than allowed, and no more than a fair share for any one source IP (reflection floods).
/// </summary>
internal sealed class DatagramPolicy
{
    private readonly ulong[] _deniedPorts = new ulong[65536 / 64];
    private readonly int _maxDatagramBytes;
    private readonly SourceRateLimiter? _rateLimiter;

    /// <param name="limits">The listener's limits.</param>
    /// <param name="ownPorts">
    /// The ports the listener is bound to, always denied: a datagram spoofed from another echo service on the same
    /// port would otherwise bounce between the two for ever.
    /// </param>
    /// <param name="time">The rate limiter's clock.</param>
    public DatagramPolicy(UdpLimits limits, IEnumerable<int> ownPorts, TimeProvider time)
    {
        foreach (var port in limits.DenySourcePorts.Concat(ownPorts))
        {
            _deniedPorts[port >> 6] |= 1UL << (port & 63);
        }

        _maxDatagramBytes = limits.MaxDatagramBytes;
        _rateLimiter = limits.PerSourceDatagramsPerSecond > 0 ? new SourceRateLimiter(limits.PerSourceDatagramsPerSecond, time) : null;
    }

    /// <summary>Null when the datagram is answered; otherwise why it is dropped. Allocates nothing.</summary>
    public UdpDropReason? Check(SocketAddress source, int length)
    {
        if (!SourceIp.TryRead(source, out var ip, out var port) || ip.IsUnspecified || ip.IsBroadcast || ip.IsMulticast)
        {
            return UdpDropReason.BadSource;
        }

        if ((_deniedPorts[port >> 6] & (1UL << (port & 63))) != 0)
        {
            return UdpDropReason.DeniedPort;
        }

        if (length > _maxDatagramBytes)
        {
            return UdpDropReason.TooLarge;
        }

        // Last, so only datagrams that would be answered spend the source's tokens.
        if (_rateLimiter is not null && !_rateLimiter.TryAcquire(ip))
        {
            return UdpDropReason.RateLimited;
        }

        return null;
    }
}
