using System.Net;
using Microsoft.AspNetCore.Http;
using EchoHost.Configuration;
using EchoHost.Protocols.Web;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>Whose word the echo takes for the client's address, on a bare request context.</summary>
public sealed class HttpEchoClientTests
{
    private static DefaultHttpContext Request(string peer, string header, string value)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Connection.RemotePort = 40000;
        context.Request.Headers[header] = value;
        return context;
    }

    private static TrustedProxies Trusted(params string[] entries) => TrustedProxies.Parse(entries);

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", "first")]
    [InlineData("203.0.113.7, 10.0.0.2", "203.0.113.7", "second")]
    [InlineData("198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7", "second")]
    [InlineData("203.0.113.7:4711, [2001:db8::1]:80", "2001:db8::1", "first")]
    public void X_forwarded_for_is_read_from_the_right_while_the_hops_are_trusted(string header, string client, string ordinal)
    {
        var result = HttpEchoClient.Resolve(Request("10.0.0.1", "X-Forwarded-For", header), Trusted("10.0.0.0/8"), ForwardedHeaderKind.XForwardedFor);

        Assert.Equal(client, result.Address?.ToString());
        Assert.Equal("x-forwarded-for", result.Source);
        Assert.True(result.Forwarded!.Used);
        Assert.Contains($"the {ordinal} address from the right", result.Forwarded.Note);
    }

    [Fact]
    public void A_hop_that_is_not_an_address_stops_the_walk_at_the_last_good_one()
    {
        var result = HttpEchoClient.Resolve(Request("10.0.0.1", "X-Forwarded-For", "203.0.113.7, unknown, 10.0.0.3"), Trusted("10.0.0.0/8"),
            ForwardedHeaderKind.XForwardedFor);

        Assert.Equal("10.0.0.3", result.Address?.ToString());
        Assert.Contains("stopped at 'unknown', not an IP address", result.Forwarded!.Note);
    }

    [Fact]
    public void Forwarded_is_read_only_when_the_listener_reads_it_and_then_its_for_parameters()
    {
        var context = Request("::ffff:10.0.0.1", "Forwarded", "for=198.51.100.9;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1");
        context.Request.Headers["X-Forwarded-For"] = "192.0.2.99";

        var asForwarded = HttpEchoClient.Resolve(context, Trusted("10.0.0.1"), ForwardedHeaderKind.Forwarded);
        var asXff = HttpEchoClient.Resolve(Request("10.0.0.1", "Forwarded", "for=198.51.100.9"), Trusted("10.0.0.1"), ForwardedHeaderKind.XForwardedFor);

        Assert.Equal("2001:db8:cafe::17", asForwarded.Address?.ToString());
        Assert.Equal("forwarded", asForwarded.Source);
        Assert.Equal("10.0.0.1", asXff.Address?.ToString());
        Assert.Equal("socket", asXff.Source);
        Assert.False(asXff.Forwarded!.Used);
        Assert.Equal("ignored: this listener reads X-Forwarded-For (ForwardedHeader)", asXff.Forwarded.Note);
    }

    [Theory]
    [InlineData("10", false)]
    [InlineData("10.1", false)]
    [InlineData("unknown", false)]
    [InlineData("_hidden", false)]
    [InlineData("192.0.2.1", true)]
    [InlineData("192.0.2.1:80", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("[2001:db8::1]:80", true)]
    public void Only_addresses_as_proxies_write_them_count_as_hops(string text, bool parsed) =>
        Assert.Equal(parsed, HttpEchoClient.TryParseNode(text, out _));

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2000)]
    [InlineData("1.5s", 1500)]
    [InlineData("0.5m", 30000)]
    [InlineData("40", 40)]
    [InlineData(" 0 ", 0)]
    public void Delays_are_written_with_a_unit_or_as_milliseconds(string text, int milliseconds)
    {
        Assert.True(HttpEchoKnobs.TryParseDelay(text, TimeSpan.FromMinutes(1), out var delay, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), delay);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData("s")]
    public void Anything_else_is_not_a_delay(string text) =>
        Assert.False(HttpEchoKnobs.TryParseDelay(text, TimeSpan.FromMinutes(1), out _, out _));
}
