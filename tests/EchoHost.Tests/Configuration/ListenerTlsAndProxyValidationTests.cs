using EchoHost.Hosting;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

/// <summary>The keys of issue 14 — Tls, ProxyProtocol, TrustedProxies, banner placeholders — fail with one line naming the key.</summary>
public sealed class ListenerTlsAndProxyValidationTests
{
    private static IReadOnlyList<string> Failures(params (string Key, string Value)[] values)
    {
        var data = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:Protocol"] = "Echo",
            ["EchoHost:Listeners:Echo:Port"] = "65432",
            ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
            ["EchoHost:Listeners:Udp:Port"] = "65400",
        };
        foreach (var (key, value) in values)
        {
            data[key] = value;
        }

        return ConfigurationFailures.Of(data);
    }

    private const string Echo = "EchoHost:Listeners:Echo";

    [Theory]
    [InlineData("V1")]
    [InlineData("Any")]
    public void Proxy_protocol_without_trusted_proxies_names_the_missing_key(string mode)
    {
        var failure = Assert.Single(Failures(($"{Echo}:ProxyProtocol", mode)));
        Assert.StartsWith($"{Echo}:TrustedProxies: missing; ProxyProtocol is {mode}, so list the proxies allowed", failure);
    }

    [Fact]
    public void Proxy_protocol_with_trusted_proxies_and_off_are_valid()
    {
        Assert.Empty(Failures(($"{Echo}:ProxyProtocol", "V2"), ($"{Echo}:TrustedProxies:0", "10.0.0.0/8"),
            ($"{Echo}:TrustedProxies:1", "fd00::/8"), ($"{Echo}:TrustedProxies:2", "127.0.0.1"), ($"{Echo}:ProxyProtocolTimeout", "00:00:02")));
        Assert.Empty(Failures(($"{Echo}:ProxyProtocol", "Off")));
    }

    [Theory]
    [InlineData("ProxyProtocol", "V3", "EchoHost:Listeners:Echo:ProxyProtocol: 'V3' is not one of Off, V1, V2, Any")]
    [InlineData("ProxyProtocol", "7", "EchoHost:Listeners:Echo:ProxyProtocol: use one of Off, V1, V2, Any")]
    [InlineData("TrustedProxies:0", "10.0.0.1/8", "EchoHost:Listeners:Echo:TrustedProxies:0: '10.0.0.1/8' has bits set after the /8 prefix; write the network address, such as 10.0.0.0/8")]
    [InlineData("TrustedProxies:0", "10.0/8", "EchoHost:Listeners:Echo:TrustedProxies:0: '10.0/8' is not an IP address or CIDR")]
    [InlineData("TrustedProxies:0", "10.1", "EchoHost:Listeners:Echo:TrustedProxies:0: '10.1' is not an IP address or CIDR")]
    [InlineData("TrustedProxies:0", "proxy.example", "EchoHost:Listeners:Echo:TrustedProxies:0: 'proxy.example' is not an IP address or CIDR")]
    [InlineData("TrustedProxies:0", "10.0.0.0/33", "EchoHost:Listeners:Echo:TrustedProxies:0: '10.0.0.0/33' is not an IP address or CIDR")]
    [InlineData("ProxyProtocolTimeout", "00:00:00", "EchoHost:Listeners:Echo:ProxyProtocolTimeout: must be positive")]
    [InlineData("Tls:KeyPath", "key.pem", "EchoHost:Listeners:Echo:Tls:CertificatePath: missing; set CertificatePath and KeyPath (PEM files) or Pkcs12Path")]
    [InlineData("Tls:Pasword", "x", "EchoHost:Listeners:Echo:Tls:Pasword: unknown key")]
    [InlineData("Tls:HandshakeTimeout", "-00:00:01", "EchoHost:Listeners:Echo:Tls:")]
    [InlineData("Tls:MaxHandshakesPerIp", "-1", "EchoHost:Listeners:Echo:Tls:MaxHandshakesPerIp: must not be negative; use 0 for no limit")]
    [InlineData("Tls:MaxHandshakes", "-1", "EchoHost:Listeners:Echo:Tls:MaxHandshakes: must not be negative; use 0 for no limit")]
    [InlineData("Tls:MaxHandshakes", "many", "EchoHost:Listeners:Echo:Tls:MaxHandshakes: 'many' is not a whole number")]
    [InlineData("Banner", "hello from {pod} on {nod}", "EchoHost:Listeners:Echo:Banner: unknown placeholder {nod}; use {host}, {listener}, {local}, {remote}, {pod}, {namespace}, {node}")]
    public void Bad_values_are_one_line_naming_the_key(string key, string value, string expected)
    {
        var failures = Failures(($"{Echo}:{key}", value), ($"{Echo}:TrustedProxies:9", "127.0.0.1"));
        Assert.Contains(failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Tls:CertificatePath", "cert.pem")]
    [InlineData("ProxyProtocol", "V2")]
    [InlineData("TrustedProxies:0", "10.0.0.0/8")]
    [InlineData("ProxyProtocolTimeout", "00:00:05")]
    public void Tcp_only_keys_on_a_udp_listener_are_refused(string key, string value)
    {
        var name = key.Split(':')[0];
        Assert.Contains($"EchoHost:Listeners:Udp:{name}: applies to TCP listeners only; remove it from this UdpEcho listener",
            Failures(($"EchoHost:Listeners:Udp:{key}", value)));
    }

    /// <summary>Settings that are each fine alone but not together: one line, exactly.</summary>
    [Theory]
    [InlineData("EchoHost:Listeners:Echo:Tls:CertificatePath=a.pem;EchoHost:Listeners:Echo:Tls:Pkcs12Path=a.p12",
        "EchoHost:Listeners:Echo:Tls:Pkcs12Path: set either CertificatePath (with KeyPath) or Pkcs12Path, not both")]
    [InlineData("EchoHost:Listeners:Chat:Protocol=Chat;EchoHost:Listeners:Chat:Port=65433;EchoHost:Listeners:Chat:Banner=welcome to {pod}",
        "EchoHost:Listeners:Chat:Banner: applies to Echo listeners only; remove it from this Chat listener")]
    public void Settings_that_exclude_each_other_are_one_line(string settings, string expected)
    {
        var values = settings.Split(';').Select(s => (s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..])).ToArray();

        Assert.Equal(expected, Assert.Single(Failures(values)));
    }

    [Fact]
    public async Task Proxy_protocol_without_trusted_proxies_stops_the_start_with_one_line()
    {
        var failure = await Record.ExceptionAsync(async () =>
            await (await TestHost.StartAsync(new Dictionary<string, string?> { [$"{Echo}:ProxyProtocol"] = "Any" })).DisposeAsync());

        var line = Assert.Single(StartupErrors.Describe(failure!, null));
        Assert.StartsWith($"EchoHost: configuration error: {Echo}:TrustedProxies: missing;", line);
    }
}
