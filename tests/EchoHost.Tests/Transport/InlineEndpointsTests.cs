using System.Net;
using EchoHost.Transport;

namespace EchoHost.Tests.Transport;

public sealed class InlineEndpointsTests
{
    [Fact]
    public void A_configured_endpoint_is_known_by_its_object_so_two_listeners_on_port_0_are_told_apart()
    {
        var endpoints = new InlineEndpoints();
        var echo = new IPEndPoint(IPAddress.Loopback, 0);
        endpoints.Add(echo);

        Assert.True(endpoints.Contains(echo));
        Assert.False(endpoints.Contains(new IPEndPoint(IPAddress.Loopback, 0)));
    }

    [Fact]
    public void A_derived_endpoint_is_known_by_address_and_port()
    {
        var endpoints = new InlineEndpoints();
        endpoints.AddDerived(65432, IPAddress.Loopback, IPAddress.IPv6Loopback);

        Assert.True(endpoints.Contains(new IPEndPoint(IPAddress.Loopback, 65432)));
        Assert.True(endpoints.Contains(new IPEndPoint(IPAddress.IPv6Loopback, 65432)));
        Assert.False(endpoints.Contains(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 65432)));
        Assert.False(endpoints.Contains(new IPEndPoint(IPAddress.Loopback, 65433)));
    }

    [Fact]
    public void Port_0_on_a_derived_address_is_never_claimed()
    {
        var endpoints = new InlineEndpoints();
        endpoints.AddDerived(0, IPAddress.Any, IPAddress.IPv6Any);

        Assert.False(endpoints.Contains(new IPEndPoint(IPAddress.IPv6Any, 0)));
    }
}
