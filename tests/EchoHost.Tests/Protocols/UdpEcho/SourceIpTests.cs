using System.Net;
using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Protocols.UdpEcho;

public sealed class SourceIpTests
{
    private static (SourceIp Ip, int Port) Read(string address, int port = 4242)
    {
        Assert.True(SourceIp.TryRead(new IPEndPoint(IPAddress.Parse(address), port).Serialize(), out var ip, out var readPort));
        return (ip, readPort);
    }

    [Theory]
    [InlineData("127.0.0.1", 7)]
    [InlineData("::1", 65400)]
    [InlineData("2001:db8::42", 0)]
    [InlineData("::ffff:192.0.2.1", 65535)]
    public void Reads_address_and_port_from_the_socket_address_bytes(string address, int port)
    {
        var (ip, readPort) = Read(address, port);

        Assert.Equal(port, readPort);
        Assert.Equal(IPAddress.Parse(address) is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4().ToString() : address, ip.ToString());
    }

    [Fact]
    public void An_ipv4_client_is_one_source_whether_seen_by_an_ipv4_or_a_dual_stack_socket()
    {
        Assert.Equal(Read("192.0.2.1").Ip, Read("::ffff:192.0.2.1").Ip);
        Assert.Equal(Read("192.0.2.1").Ip.GetHashCode(), Read("::ffff:192.0.2.1").Ip.GetHashCode());
        Assert.NotEqual(Read("192.0.2.1").Ip, Read("192.0.2.2").Ip);
        Assert.True(Read("::ffff:192.0.2.1").Ip.IsIPv4);
        Assert.False(Read("::1").Ip.IsIPv4);
    }

    [Theory]
    [InlineData("0.0.0.0", true, false, false)]
    [InlineData("0.1.2.3", true, false, false)]
    [InlineData("::", true, false, false)]
    [InlineData("::ffff:0.0.0.0", true, false, false)]
    [InlineData("255.255.255.255", false, true, false)]
    [InlineData("::ffff:255.255.255.255", false, true, false)]
    [InlineData("224.0.0.1", false, false, true)]
    [InlineData("239.255.255.250", false, false, true)]
    [InlineData("::ffff:224.0.0.251", false, false, true)]
    [InlineData("ff02::1", false, false, true)]
    [InlineData("127.0.0.1", false, false, false)]
    [InlineData("192.0.2.255", false, false, false)]
    [InlineData("::1", false, false, false)]
    [InlineData("fe80::1", false, false, false)]
    public void Classifies_addresses_no_real_peer_sends_from(string address, bool unspecified, bool broadcast, bool multicast)
    {
        var (ip, _) = Read(address);

        Assert.Equal(unspecified, ip.IsUnspecified);
        Assert.Equal(broadcast, ip.IsBroadcast);
        Assert.Equal(multicast, ip.IsMulticast);
    }
}
