using System.Net;
using System.Text;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class ProxyProtocolParserTests
{
    private static readonly IPEndPoint Client4 = IPEndPoint.Parse("203.0.113.7:51234");
    private static readonly IPEndPoint Front4 = IPEndPoint.Parse("198.51.100.1:443");
    private static readonly IPEndPoint Client6 = IPEndPoint.Parse("[2001:db8::7]:51234");
    private static readonly IPEndPoint Front6 = IPEndPoint.Parse("[2001:db8::1]:443");

    private static (ProxyParseStatus Status, ProxyHeader Header, string Error) Parse(byte[] bytes, ProxyProtocolMode mode = ProxyProtocolMode.Any)
    {
        var status = ProxyProtocolParser.TryParse(new ReadOnlySequence<byte>(bytes), mode, out var header, out var error);
        return (status, header, error);
    }

    /// <summary>The same bytes cut into one-byte segments: the parser must not care how the transport split them.</summary>
    private static ProxyParseStatus ParseSplit(byte[] bytes, ProxyProtocolMode mode, out ProxyHeader header)
    {
        Segment? first = null, last = null;
        foreach (var b in bytes)
        {
            var segment = new Segment(new[] { b });
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Append(segment);
            }

            last = segment;
        }

        return ProxyProtocolParser.TryParse(new ReadOnlySequence<byte>(first!, 0, last!, 1), mode, out header, out _);
    }

    [Theory]
    [InlineData(ProxyProtocolMode.V1)]
    [InlineData(ProxyProtocolMode.Any)]
    public void V1_tcp4_gives_the_client_and_the_header_length(ProxyProtocolMode mode)
    {
        var header = ProxyHeaders.V1(Client4, Front4);
        var (status, parsed, _) = Parse([.. header, .. "hello"u8.ToArray()], mode);

        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(Client4, parsed.Source);
        Assert.Equal(Front4, parsed.Destination);
        Assert.Equal(header.Length, parsed.Length);
        Assert.Equal(1, parsed.Version);
    }

    [Fact]
    public void V1_tcp6_and_unknown()
    {
        Assert.Equal(Client6, Parse(ProxyHeaders.V1(Client6, Front6)).Header.Source);
        var unknown = Parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"u8.ToArray());
        Assert.Equal(ProxyParseStatus.Complete, unknown.Status);
        Assert.True(unknown.Header.IsLocal);
    }

    [Theory]
    [InlineData(ProxyProtocolMode.V2)]
    [InlineData(ProxyProtocolMode.Any)]
    public void V2_ipv4_and_ipv6_with_tlvs_skipped(ProxyProtocolMode mode)
    {
        var v4 = ProxyHeaders.V2(Client4, Front4, tlvs: [(0x01, "h2"u8.ToArray()), (0x04, new byte[40])]);
        var (status, parsed, _) = Parse([.. v4, 1, 2, 3], mode);
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.Equal(Client4, parsed.Source);
        Assert.Equal(Front4, parsed.Destination);
        Assert.Equal(v4.Length, parsed.Length);

        Assert.Equal(Client6, Parse(ProxyHeaders.V2(Client6, Front6), mode).Header.Source);
    }

    [Fact]
    public void V2_local_keeps_the_proxy_address()
    {
        var (status, parsed, _) = Parse(ProxyHeaders.V2(Client4, Front4, local: true));
        Assert.Equal(ProxyParseStatus.Complete, status);
        Assert.True(parsed.IsLocal);
        Assert.Null(parsed.Source);
    }

    [Fact]
    public void Headers_split_into_single_bytes_parse_the_same()
    {
        Assert.Equal(ProxyParseStatus.Complete, ParseSplit(ProxyHeaders.V1(Client4, Front4), ProxyProtocolMode.Any, out var v1));
        Assert.Equal(Client4, v1.Source);
        Assert.Equal(ProxyParseStatus.Complete, ParseSplit(ProxyHeaders.V2(Client6, Front6), ProxyProtocolMode.Any, out var v2));
        Assert.Equal(Client6, v2.Source);
    }

    [Fact]
    public void Every_prefix_of_a_valid_header_is_incomplete_never_invalid()
    {
        foreach (var header in new[] { ProxyHeaders.V1(Client6, Front6), ProxyHeaders.V2(Client4, Front4, tlvs: [(0x02, new byte[5])]) })
        {
            for (var length = 0; length < header.Length; length++)
            {
                Assert.Equal(ProxyParseStatus.Incomplete, Parse(header[..length]).Status);
            }
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n", "first byte is 0x47")]
    [InlineData("PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "wrong signature")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "LF instead of CRLF")]
    [InlineData("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "protocol 'TCP5'")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "5 fields")]
    [InlineData("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "7 fields")]
    [InlineData("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "port")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "port")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 0080 2\r\n", "port")]
    [InlineData("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "0x09")]
    [InlineData("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", "CR before its end")]
    public void Malformed_v1_is_invalid(string text, string why)
    {
        var (status, _, error) = Parse(Encoding.Latin1.GetBytes(text));
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains(why, error);
    }

    /// <summary>
    /// The specification's address grammar, exactly: TCP4 is four decimal numbers from 0 to 255 without leading zeros
    /// (no hex, no octal, no padding); TCP6 is RFC 4291 text — hex groups, one "::" at most, an optional dotted-quad
    /// tail — with no brackets, zone or prefix (a zone id would make one client several per-IP keys).
    /// </summary>
    [Theory]
    [InlineData("PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 0177.0.0.1 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 127.000.000.001 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 127.0.0.01 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8. 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 2130706433 5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP4 1.2.3.4 0x5.6.7.8 1 2\r\n", "not IPv4")]
    [InlineData("PROXY TCP6 [::1] ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 fe80::1%2 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 2001:db8::1/64 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 2001:db8::00001 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 1::2::3 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 :::1 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 ::ffff:127.000.0.1 ::1 1 2\r\n", "not IPv6")]
    [InlineData("PROXY TCP6 ::1 [2001:db8::1] 1 2\r\n", "not IPv6")]
    public void V1_addresses_outside_the_specification_grammar_are_invalid(string text, string why)
    {
        var (status, _, error) = Parse(Encoding.ASCII.GetBytes(text));
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains(why, error);
    }

    [Theory]
    [InlineData("PROXY TCP4 10.0.0.1 5.6.7.8 65535 2\r\n", "10.0.0.1:65535")]
    [InlineData("PROXY TCP4 255.255.255.254 0.0.0.0 1 0\r\n", "255.255.255.254:1")]
    [InlineData("PROXY TCP6 2001:DB8::A 2001:db8::1 1 2\r\n", "[2001:db8::a]:1")]
    [InlineData("PROXY TCP6 0:0:0:0:0:0:0:1 ::1 1 2\r\n", "[::1]:1")]
    [InlineData("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", "[::ffff:192.0.2.1]:1")]
    [InlineData("PROXY TCP6 1:2:3:4:5:6:7:8 ::1 1 2\r\n", "[1:2:3:4:5:6:7:8]:1")]
    [InlineData("PROXY TCP6 1:2:3:4:5:6:7:: ::1 1 2\r\n", "[1:2:3:4:5:6:7:0]:1")]
    [InlineData("PROXY TCP6 fe80::1 ::1 1 2\r\n", "[fe80::1]:1")]
    public void V1_addresses_in_the_specification_grammar_are_read(string text, string client)
    {
        var (status, header, error) = Parse(Encoding.ASCII.GetBytes(text));
        Assert.True(status == ProxyParseStatus.Complete, error);
        Assert.Equal(IPEndPoint.Parse(client), header.Source);
    }

    /// <summary>
    /// Well-formed, but no TCP client can have it: the unspecified address, the broadcast address, a multicast
    /// address (also as an IPv4-mapped IPv6 address), or port 0. Taken as it stands it would key per-IP limits to an
    /// address shared by whatever sends it; such a header is a broken or lying proxy, and is refused as invalid.
    /// </summary>
    [Theory]
    [InlineData("PROXY TCP4 0.0.0.0 5.6.7.8 1 2\r\n", "the unspecified address")]
    [InlineData("PROXY TCP4 255.255.255.255 5.6.7.8 1 2\r\n", "the broadcast address")]
    [InlineData("PROXY TCP4 224.0.0.1 5.6.7.8 1 2\r\n", "a multicast address")]
    [InlineData("PROXY TCP4 239.255.255.250 5.6.7.8 1 2\r\n", "a multicast address")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 0 2\r\n", "port 0")]
    [InlineData("PROXY TCP6 :: ::1 1 2\r\n", "the unspecified address")]
    [InlineData("PROXY TCP6 ff02::1 ::1 1 2\r\n", "a multicast address")]
    [InlineData("PROXY TCP6 ::ffff:0.0.0.0 ::1 1 2\r\n", "the unspecified address")]
    [InlineData("PROXY TCP6 ::ffff:224.0.0.1 ::1 1 2\r\n", "a multicast address")]
    [InlineData("PROXY TCP6 ::ffff:255.255.255.255 ::1 1 2\r\n", "the broadcast address")]
    [InlineData("PROXY TCP6 2001:db8::1 ::1 0 2\r\n", "port 0")]
    public void V1_with_a_client_address_no_client_can_have_is_invalid(string text, string what)
    {
        var (status, _, error) = Parse(Encoding.ASCII.GetBytes(text));
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains($"{what} cannot be a client's", error);
    }

    [Theory]
    [InlineData("0.0.0.0:1", "the unspecified address")]
    [InlineData("255.255.255.255:1", "the broadcast address")]
    [InlineData("224.0.0.251:5353", "a multicast address")]
    [InlineData("203.0.113.7:0", "port 0")]
    [InlineData("[::]:1", "the unspecified address")]
    [InlineData("[ff05::2]:1", "a multicast address")]
    [InlineData("[::ffff:239.1.2.3]:1", "a multicast address")]
    [InlineData("[2001:db8::7]:0", "port 0")]
    public void V2_with_a_client_address_no_client_can_have_is_invalid(string client, string what)
    {
        var source = IPEndPoint.Parse(client);
        var destination = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Front4 : Front6;
        var (status, _, error) = Parse(ProxyHeaders.V2(source, destination));
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains($"{what} cannot be a client's", error);

        // LOCAL ignores the addresses, whatever they are.
        Assert.Equal(ProxyParseStatus.Complete, Parse(ProxyHeaders.V2(source, destination, local: true)).Status);
    }

    [Fact]
    public void V1_without_crlf_in_107_bytes_is_invalid_and_107_bytes_is_enough()
    {
        // The specification's worst case: UNKNOWN followed by two full IPv6 addresses and ports.
        var longest = Encoding.ASCII.GetBytes("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
        Assert.Equal(ProxyProtocolParser.MaxV1Bytes, longest.Length);
        Assert.Equal(ProxyParseStatus.Complete, Parse(longest).Status);

        var endless = Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('x', 200));
        var (status, _, error) = Parse(endless);
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("longer than 107 bytes", error);
    }

    [Fact]
    public void Mode_v1_refuses_v2_and_mode_v2_refuses_v1()
    {
        Assert.Contains("wrong signature", Parse(ProxyHeaders.V2(Client4, Front4), ProxyProtocolMode.V1).Error);
        Assert.Contains("wrong signature", Parse(ProxyHeaders.V1(Client4, Front4), ProxyProtocolMode.V2).Error);
    }

    public static TheoryData<byte[], string> MalformedV2 => new()
    {
        { [.. ProxyHeaders.V2Signature[..11], 0x0B], "wrong signature" },
        { ProxyHeaders.V2Raw(0x11, 0x11, new byte[12]), "version 1" },
        { ProxyHeaders.V2Raw(0x22, 0x11, new byte[12]), "command 2" },
        { ProxyHeaders.V2Raw(0x21, 0x41, new byte[12]), "family and protocol 0x41" },
        { ProxyHeaders.V2Raw(0x21, 0x13, new byte[12]), "family and protocol 0x13" },
        { ProxyHeaders.V2Raw(0x21, 0x11, new byte[8]), "too short for its IPv4" },
        { ProxyHeaders.V2Raw(0x21, 0x21, new byte[12]), "too short for its IPv6" },
        { ProxyHeaders.V2Raw(0x21, 0x11, [.. new byte[12], 0x01, 0x00, 0x09, 0x41]), "TLV that runs past" },
        { ProxyHeaders.V2Raw(0x21, 0x11, [.. new byte[12], 0x01, 0x00]), "TLV that runs past" },
        // The length field is 16 bits: 16 + 65535 bytes is just over 64 KiB, refused before any of it is buffered.
        { ProxyHeaders.V2Raw(0x21, 0x11, [], lengthField: 65535), "announces 65551 bytes, over the limit of 4096" },
        { ProxyHeaders.V2Raw(0x21, 0x11, [], lengthField: ProxyProtocolParser.MaxV2Bytes - 15), "over the limit" },
    };

    [Theory]
    [MemberData(nameof(MalformedV2))]
    public void Malformed_v2_is_invalid(byte[] bytes, string why)
    {
        var (status, _, error) = Parse(bytes);
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains(why, error);
    }

    [Fact]
    public void V2_of_exactly_the_limit_is_accepted()
    {
        var padding = ProxyProtocolParser.MaxV2Bytes - 16 - 12 - 3;
        var header = ProxyHeaders.V2(Client4, Front4, tlvs: [(0x04, new byte[padding])]);
        Assert.Equal(ProxyProtocolParser.MaxV2Bytes, header.Length);
        Assert.Equal(ProxyParseStatus.Complete, Parse(header).Status);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
