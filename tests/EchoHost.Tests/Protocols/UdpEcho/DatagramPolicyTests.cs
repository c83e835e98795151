using System.Net;
using EchoHost.Configuration;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.UdpEcho;

public sealed class DatagramPolicyTests
{
    private const int OwnPort = 65400;
    private readonly ManualTime _time = new();

    private DatagramPolicy Policy(int maxDatagramBytes = ListenerOptions.MaxUdpPayload, int[]? deny = null, int perSecond = 0) =>
        new(new UdpLimits(maxDatagramBytes, deny ?? [.. ListenerOptions.DefaultDenySourcePorts], perSecond), [OwnPort], _time);

    private static SocketAddress From(string address, int port = 50000) => new IPEndPoint(IPAddress.Parse(address), port).Serialize();

    [Theory]
    [InlineData("127.0.0.1", 50000, 0)]
    [InlineData("::1", 1024, 65507)]
    [InlineData("::ffff:192.0.2.1", 65535, 1)]
    public void An_ordinary_datagram_is_answered(string address, int port, int length) =>
        Assert.Null(Policy().Check(From(address, port), length));

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(19)]
    [InlineData(37)]
    [InlineData(OwnPort)]
    public void Default_denied_source_ports_and_the_listeners_own_port_are_dropped(int port)
    {
        Assert.Equal(UdpDropReason.DeniedPort, Policy().Check(From("192.0.2.1", port), 10));
        Assert.Equal(UdpDropReason.DeniedPort, Policy().Check(From("::ffff:192.0.2.1", port), 10));
        Assert.Equal(UdpDropReason.DeniedPort, Policy().Check(From("2001:db8::1", port), 10));
    }

    [Fact]
    public void A_configured_list_replaces_the_default_and_the_own_port_stays_denied()
    {
        var policy = Policy(deny: [5000]);

        Assert.Equal(UdpDropReason.DeniedPort, policy.Check(From("192.0.2.1", 5000), 10));
        Assert.Equal(UdpDropReason.DeniedPort, policy.Check(From("192.0.2.1", OwnPort), 10));
        Assert.Null(policy.Check(From("192.0.2.1", 7), 10));
        Assert.Equal(UdpDropReason.DeniedPort, Policy(deny: []).Check(From("192.0.2.1", OwnPort), 10));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("::")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:255.255.255.255")]
    public void Unspecified_broadcast_and_multicast_sources_are_dropped(string address) =>
        Assert.Equal(UdpDropReason.BadSource, Policy().Check(From(address), 10));

    [Fact]
    public void Over_MaxDatagramBytes_is_dropped_up_to_it_is_answered()
    {
        var policy = Policy(maxDatagramBytes: 512);

        Assert.Null(policy.Check(From("192.0.2.1"), 512));
        Assert.Equal(UdpDropReason.TooLarge, policy.Check(From("192.0.2.1"), 513));
    }

    [Fact]
    public void Rate_limit_applies_per_source_and_only_to_datagrams_that_would_be_answered()
    {
        var policy = Policy(maxDatagramBytes: 100, perSecond: 1);
        var source = From("192.0.2.1");

        // Dropped for another reason: spends no token.
        Assert.Equal(UdpDropReason.TooLarge, policy.Check(source, 101));
        Assert.Null(policy.Check(source, 10));
        Assert.Null(policy.Check(source, 10));
        Assert.Equal(UdpDropReason.RateLimited, policy.Check(source, 10));
        Assert.Null(policy.Check(From("192.0.2.2"), 10));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(policy.Check(source, 10));
    }

    [Fact]
    public void Zero_turns_the_rate_limit_off()
    {
        var policy = Policy(perSecond: 0);
        var source = From("192.0.2.1");

        Assert.All(Enumerable.Range(0, 10_000), _ => Assert.Null(policy.Check(source, 10)));
    }

    [Fact]
    public void The_drop_order_is_source_then_port_then_size()
    {
        var policy = Policy(maxDatagramBytes: 10);

        Assert.Equal(UdpDropReason.BadSource, policy.Check(From("224.0.0.1", 7), 11));
        Assert.Equal(UdpDropReason.DeniedPort, policy.Check(From("192.0.2.1", 7), 11));
    }
}
