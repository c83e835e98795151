using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Tests.Configuration;

public sealed class BindAddressTests
{
    [Theory]
    [InlineData("*", "Any", null)]
    [InlineData("localhost", "Localhost", null)]
    [InlineData("LocalHost", "Localhost", null)]
    [InlineData("0.0.0.0", "Ip", "0.0.0.0")]
    [InlineData("::", "Ip", "::")]
    [InlineData("127.0.0.1", "Ip", "127.0.0.1")]
    [InlineData("::1", "Ip", "::1")]
    [InlineData("[::1]", "Ip", "::1")]
    [InlineData(" 10.0.0.5 ", "Ip", "10.0.0.5")]
    public void Parses_what_users_write(string text, string kind, string? ip)
    {
        Assert.True(BindAddress.TryParse(text, out var address));
        Assert.Equal(kind, address.Kind.ToString());
        Assert.Equal(ip is null ? null : IPAddress.Parse(ip), address.Ip);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(null)]
    [InlineData("example.com")]
    [InlineData("1")]
    [InlineData("10.1")]
    [InlineData("300.1.1.1")]
    [InlineData("127.0.0.1:80")]
    [InlineData("http://localhost")]
    public void Rejects_anything_else(string? text) => Assert.False(BindAddress.TryParse(text, out _));

    [Theory]
    [InlineData("*", "127.0.0.1", true)]
    [InlineData("0.0.0.0", "10.0.0.1", true)]
    [InlineData("localhost", "127.0.0.1", true)]
    [InlineData("localhost", "::1", true)]
    [InlineData("localhost", "10.0.0.1", false)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    public void Knows_which_addresses_compete_for_a_port(string a, string b, bool overlap)
    {
        BindAddress.TryParse(a, out var first);
        BindAddress.TryParse(b, out var second);
        Assert.Equal(overlap, first.Overlaps(second));
        Assert.Equal(overlap, second.Overlaps(first));
    }
}
