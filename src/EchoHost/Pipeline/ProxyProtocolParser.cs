using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Configuration;

namespace EchoHost.Pipeline;

internal enum ProxyParseStatus
{
    /// <summary>What arrived so far is a valid beginning; read more.</summary>
    Incomplete,
    Complete,
    Invalid,
}

/// <summary>
/// A parsed PROXY protocol header. <see cref="Source"/> is null when the proxy speaks for itself (v2 <c>LOCAL</c>,
/// v1 <c>UNKNOWN</c>, or an address family that is not IP): the connection keeps the proxy's own address.
/// </summary>
internal readonly record struct ProxyHeader(int Version, int Length, IPEndPoint? Source, IPEndPoint? Destination)
{
    public bool IsLocal => Source is null;
}

/// <summary>
/// Reads the PROXY protocol header (HAProxy's specification, versions 1 and 2) from the start of a connection's
/// bytes, strictly: v1 is one CRLF-terminated ASCII line of at most 107 bytes; v2 is a 16-byte fixed part whose
/// length field may announce at most <see cref="MaxV2Bytes"/> in all, with its addresses and TLVs checked to fit
/// exactly. TLVs are checked and skipped. Anything else is invalid as soon as the first wrong byte arrives, so a
/// client that is not a proxy is told apart without waiting.
/// </summary>
/// <remarks>
/// v1 addresses follow the specification's grammar exactly, not whatever <see cref="IPAddress.TryParse(string, out IPAddress)"/>
/// takes: TCP4 is four decimal numbers from 0 to 255 without leading zeros (so no <c>0x7f.0.0.1</c>, no octal
/// <c>0177.0.0.1</c>, no <c>127.000.000.001</c>); TCP6 is RFC 4291 text — groups of one to four hex digits, one
/// <c>::</c> at most, optionally a dotted-quad tail — with no brackets, zone id (<c>fe80::1%eth0</c>, which would
/// make one client several per-IP keys) or prefix. Ports are decimal without leading zeros. And in v1 and v2 alike,
/// a client no TCP client can be — the unspecified address, the broadcast address, a multicast address (also
/// IPv4-mapped), port 0 — makes the header invalid: it comes from a broken or lying proxy, and taken as it stands
/// it would put unrelated connections under one per-IP key. The destination is informational and only parsed.
/// </remarks>
internal static class ProxyProtocolParser
{
    public const int MaxV1Bytes = 107;

    /// <summary>
    /// A v2 header may announce up to 64 KiB; balancers send a few hundred bytes at most (addresses plus a handful of
    /// TLVs), so a bigger one is refused before it is buffered.
    /// </summary>
    public const int MaxV2Bytes = 4096;

    private const int V2FixedBytes = 16;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private static ReadOnlySpan<byte> V1Signature => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static ProxyParseStatus TryParse(in ReadOnlySequence<byte> buffer, ProxyProtocolMode mode, out ProxyHeader header, out string error)
    {
        header = default;
        error = string.Empty;
        if (buffer.IsEmpty)
        {
            return ProxyParseStatus.Incomplete;
        }

        var first = buffer.FirstSpan[0];
        var v1 = mode == ProxyProtocolMode.V1 || (mode == ProxyProtocolMode.Any && first == (byte)'P');
        var v2 = mode == ProxyProtocolMode.V2 || (mode == ProxyProtocolMode.Any && first == 0x0D);
        if (!v1 && !v2)
        {
            error = $"no PROXY protocol header: the first byte is 0x{first:X2}, not the start of a v1 or v2 signature";
            return ProxyParseStatus.Invalid;
        }

        return v1 ? TryParseV1(buffer, out header, out error) : TryParseV2(buffer, out header, out error);
    }

    private static ProxyParseStatus TryParseV1(in ReadOnlySequence<byte> buffer, out ProxyHeader header, out string error)
    {
        header = default;
        error = string.Empty;
        Span<byte> line = stackalloc byte[MaxV1Bytes];
        var available = (int)Math.Min(buffer.Length, MaxV1Bytes);
        buffer.Slice(0, available).CopyTo(line);
        line = line[..available];

        var signature = Math.Min(available, V1Signature.Length);
        if (!line[..signature].SequenceEqual(V1Signature[..signature]))
        {
            error = "wrong signature: a v1 header starts with \"PROXY \"";
            return ProxyParseStatus.Invalid;
        }

        var end = line.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (available == MaxV1Bytes)
            {
                error = $"v1 header longer than {MaxV1Bytes} bytes";
                return ProxyParseStatus.Invalid;
            }

            return NonAscii(line, out error) ? ProxyParseStatus.Invalid : ProxyParseStatus.Incomplete;
        }

        if (end == 0 || line[end - 1] != (byte)'\r')
        {
            error = "v1 header ends with LF instead of CRLF";
            return ProxyParseStatus.Invalid;
        }

        var text = line[..(end - 1)];
        if (NonAscii(text, out error) || (text.Contains((byte)'\r') && Fail("v1 header has a CR before its end", out error)))
        {
            return ProxyParseStatus.Invalid;
        }

        var fields = Encoding.ASCII.GetString(text).Split(' ');
        if (fields is [_, "UNKNOWN", ..])
        {
            header = new ProxyHeader(1, end + 1, null, null);
            return ProxyParseStatus.Complete;
        }

        if (fields.Length != 6 || fields[1] is not ("TCP4" or "TCP6"))
        {
            error = fields.Length > 1 && fields[1] is not ("TCP4" or "TCP6")
                ? $"v1 header has protocol '{Printable(fields[1])}'; expected TCP4, TCP6 or UNKNOWN"
                : $"v1 header has {fields.Length} fields; expected PROXY TCP4|TCP6 source destination source-port destination-port";
            return ProxyParseStatus.Invalid;
        }

        var family = fields[1] == "TCP4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (!TryParseV1Address(fields[2], family, out var source) || !TryParseV1Address(fields[3], family, out var destination))
        {
            var bad = TryParseV1Address(fields[2], family, out _) ? fields[3] : fields[2];
            error = family == AddressFamily.InterNetwork
                ? $"v1 header has the address '{Printable(bad)}', which is not IPv4 as the specification writes it (four numbers from 0 to 255, without leading zeros)"
                : $"v1 header has the address '{Printable(bad)}', which is not IPv6 as the specification writes it (RFC 4291 text, without brackets, zone or prefix)";
            return ProxyParseStatus.Invalid;
        }

        if (!TryParseV1Port(fields[4], out var sourcePort) || !TryParseV1Port(fields[5], out var destinationPort))
        {
            error = "v1 header has a port that is not a number from 0 to 65535";
            return ProxyParseStatus.Invalid;
        }

        var client = new IPEndPoint(source, sourcePort);
        if (Unusable(client) is { } what)
        {
            error = NoClient(1, client, what);
            return ProxyParseStatus.Invalid;
        }

        header = new ProxyHeader(1, end + 1, client, new IPEndPoint(destination, destinationPort));
        return ProxyParseStatus.Complete;
    }

    private static ProxyParseStatus TryParseV2(in ReadOnlySequence<byte> buffer, out ProxyHeader header, out string error)
    {
        header = default;
        error = string.Empty;
        Span<byte> fixedPart = stackalloc byte[V2FixedBytes];
        var available = (int)Math.Min(buffer.Length, V2FixedBytes);
        buffer.Slice(0, available).CopyTo(fixedPart);

        var signature = Math.Min(available, V2Signature.Length);
        if (!fixedPart[..signature].SequenceEqual(V2Signature[..signature]))
        {
            error = "wrong signature: a v2 header starts with \\r\\n\\r\\n\\0\\r\\nQUIT\\n";
            return ProxyParseStatus.Invalid;
        }

        if (available > 12 && fixedPart[12] >> 4 != 2)
        {
            error = $"v2 header has version {fixedPart[12] >> 4}; expected 2";
            return ProxyParseStatus.Invalid;
        }

        var command = fixedPart[12] & 0x0F;
        if (available > 12 && command > 1)
        {
            error = $"v2 header has command {command}; expected 0 (LOCAL) or 1 (PROXY)";
            return ProxyParseStatus.Invalid;
        }

        if (available > 13 && (fixedPart[13] >> 4 > 3 || (fixedPart[13] & 0x0F) > 2))
        {
            error = $"v2 header has address family and protocol 0x{fixedPart[13]:X2}, which the specification does not define";
            return ProxyParseStatus.Invalid;
        }

        if (available < V2FixedBytes)
        {
            return ProxyParseStatus.Incomplete;
        }

        var length = V2FixedBytes + BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        if (length > MaxV2Bytes)
        {
            error = $"v2 header announces {length} bytes, over the limit of {MaxV2Bytes}";
            return ProxyParseStatus.Invalid;
        }

        if (buffer.Length < length)
        {
            return ProxyParseStatus.Incomplete;
        }

        var block = buffer.Slice(V2FixedBytes, length - V2FixedBytes).ToArray().AsSpan();
        var family = fixedPart[13] >> 4;
        var addressBytes = family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        if (command == 1 && block.Length < addressBytes)
        {
            error = $"v2 header is {length} bytes, too short for its {(family == 1 ? "IPv4" : family == 2 ? "IPv6" : "UNIX")} addresses";
            return ProxyParseStatus.Invalid;
        }

        if (command == 1 && !TlvsFit(block[addressBytes..], out error))
        {
            return ProxyParseStatus.Invalid;
        }

        // LOCAL (the proxy's own health check), UNSPEC and UNIX: the connection keeps the proxy's address.
        IPEndPoint? source = null, destination = null;
        if (command == 1 && family is 1 or 2)
        {
            var size = family == 1 ? 4 : 16;
            source = new IPEndPoint(new IPAddress(block[..size]), BinaryPrimitives.ReadUInt16BigEndian(block[(2 * size)..]));
            destination = new IPEndPoint(new IPAddress(block[size..(2 * size)]), BinaryPrimitives.ReadUInt16BigEndian(block[(2 * size + 2)..]));
            if (Unusable(source) is { } what)
            {
                error = NoClient(2, source, what);
                return ProxyParseStatus.Invalid;
            }
        }

        header = new ProxyHeader(2, length, source, destination);
        return ProxyParseStatus.Complete;
    }

    /// <summary>The TLVs after the addresses must tile the rest of the header exactly; their contents are not needed.</summary>
    private static bool TlvsFit(ReadOnlySpan<byte> tlvs, out string error)
    {
        error = string.Empty;
        while (!tlvs.IsEmpty)
        {
            if (tlvs.Length < 3 || tlvs.Length < 3 + BinaryPrimitives.ReadUInt16BigEndian(tlvs[1..]))
            {
                error = "v2 header has a TLV that runs past the header's end";
                return false;
            }

            tlvs = tlvs[(3 + BinaryPrimitives.ReadUInt16BigEndian(tlvs[1..]))..];
        }

        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return true;
    }

    private static bool NonAscii(ReadOnlySpan<byte> text, out string error)
    {
        foreach (var b in text)
        {
            if (b is < 0x20 or > 0x7E && b != (byte)'\r')
            {
                error = $"v1 header has the byte 0x{b:X2}, which is not printable ASCII";
                return true;
            }
        }

        error = string.Empty;
        return false;
    }

    /// <summary>Why no TCP client can have <paramref name="client"/>, or null when one can.</summary>
    private static string? Unusable(IPEndPoint client)
    {
        var ip = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        {
            return "the unspecified address";
        }

        if (ip.Equals(IPAddress.Broadcast))
        {
            return "the broadcast address";
        }

        if (ip.IsIPv6Multicast || (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes()[0] is >= 224 and <= 239))
        {
            return "a multicast address";
        }

        return client.Port == 0 ? "port 0" : null;
    }

    private static string NoClient(int version, IPEndPoint client, string what) =>
        $"v{version} header gives the client {client}, and {what} cannot be a client's; a proxy sends its client's own address and port";

    private static bool TryParseV1Address(string text, AddressFamily family, out IPAddress address)
    {
        address = IPAddress.None;
        var valid = family == AddressFamily.InterNetwork ? IsDottedQuad(text) : IsRfc4291Text(text);
        return valid && IPAddress.TryParse(text, out address!) && address.AddressFamily == family;
    }

    /// <summary>Exactly four decimal numbers from 0 to 255, one dot between each, without leading zeros.</summary>
    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var numbers = 0;
        foreach (var range in text.Split('.'))
        {
            var number = text[range];
            if (++numbers > 4 || number.Length is 0 or > 3 || number.ContainsAnyExceptInRange('0', '9')
                || (number.Length > 1 && number[0] == '0') || int.Parse(number) > 255)
            {
                return false;
            }
        }

        return numbers == 4;
    }

    /// <summary>
    /// RFC 4291 section 2.2: eight groups of one to four hex digits separated by colons, one <c>::</c> standing for
    /// one or more zero groups at most, and the last two groups optionally written as a dotted quad. Nothing else: no
    /// brackets, no <c>%zone</c>, no <c>/prefix</c>.
    /// </summary>
    private static bool IsRfc4291Text(string text)
    {
        var compressed = text.IndexOf("::", StringComparison.Ordinal);
        if (compressed >= 0 && text.IndexOf("::", compressed + 1, StringComparison.Ordinal) >= 0)
        {
            return false;
        }

        var groups = 0;
        var parts = compressed >= 0 ? [text[..compressed], text[(compressed + 2)..]] : new[] { text };
        for (var p = 0; p < parts.Length; p++)
        {
            if (parts[p].Length == 0)
            {
                continue;
            }

            var pieces = parts[p].Split(':');
            for (var i = 0; i < pieces.Length; i++)
            {
                var last = p == parts.Length - 1 && i == pieces.Length - 1;
                if (last && pieces[i].Contains('.'))
                {
                    if (!IsDottedQuad(pieces[i]))
                    {
                        return false;
                    }

                    groups += 2;
                }
                else if (pieces[i].Length is 0 or > 4 || pieces[i].AsSpan().ContainsAnyExcept(HexDigits))
                {
                    return false;
                }
                else
                {
                    groups++;
                }
            }
        }

        return compressed >= 0 ? groups <= 7 : groups == 8;
    }

    private static bool TryParseV1Port(string text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && int.TryParse(text, out port) && port <= 65535;
    }

    private static string Printable(string text) => text.Length > 16 ? text[..16] + "…" : text;
}
