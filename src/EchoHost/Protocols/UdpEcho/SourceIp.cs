using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// A datagram's source IP as 128 bits, read straight from the <see cref="SocketAddress"/> bytes so the hot path never
/// builds an <see cref="IPAddress"/>. IPv4 is held as its IPv4-mapped IPv6 form, so a client is one source whether a
/// dual-stack socket or an IPv4 socket received it.
/// </summary>
internal readonly struct SourceIp : IEquatable<SourceIp>
{
    private const ulong MappedIPv4Prefix = 0x0000_FFFF_0000_0000;

    private SourceIp(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    /// <summary>The first 64 bits, network order.</summary>
    public ulong High { get; }

    public ulong Low { get; }

    public bool IsIPv4 => High == 0 && (Low & 0xFFFF_FFFF_0000_0000) == MappedIPv4Prefix;

    private uint IPv4 => (uint)Low;

    /// <summary>0.0.0.0/8 ("this network") or <c>::</c>: never the address of a peer that can receive a reply.</summary>
    public bool IsUnspecified => IsIPv4 ? IPv4 >> 24 == 0 : High == 0 && Low == 0;

    public bool IsBroadcast => IsIPv4 && IPv4 == 0xFFFF_FFFF;

    /// <summary>224.0.0.0/4 or ff00::/8.</summary>
    public bool IsMulticast => IsIPv4 ? IPv4 >> 28 == 0xE : High >> 56 == 0xFF;

    /// <summary>Reads the source IP and port of a received datagram; false for anything but IPv4 and IPv6.</summary>
    public static bool TryRead(SocketAddress address, out SourceIp ip, out int port)
    {
        var bytes = address.Buffer.Span[..address.Size];
        // sockaddr_in and sockaddr_in6 both keep the port, in network order, at offset 2 (Linux, Windows, macOS).
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when bytes.Length >= 8:
                port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
                ip = new SourceIp(0, MappedIPv4Prefix | BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]));
                return true;
            case AddressFamily.InterNetworkV6 when bytes.Length >= 24:
                port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
                ip = new SourceIp(BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]));
                return true;
            default:
                ip = default;
                port = 0;
                return false;
        }
    }

    public bool Equals(SourceIp other) => High == other.High && Low == other.Low;

    public override bool Equals(object? obj) => obj is SourceIp other && Equals(other);

    /// <summary>Seeded per process, so no sender can pick addresses that all land in one bucket set.</summary>
    public override int GetHashCode() => HashCode.Combine(High, Low);

    public static bool operator ==(SourceIp left, SourceIp right) => left.Equals(right);

    public static bool operator !=(SourceIp left, SourceIp right) => !left.Equals(right);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        var address = new IPAddress(bytes);
        return (IsIPv4 ? address.MapToIPv4() : address).ToString();
    }
}
