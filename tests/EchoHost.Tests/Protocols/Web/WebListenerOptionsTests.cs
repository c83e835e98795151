using EchoHost.Protocols.Web;
using EchoHost.Tests.Configuration;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>The Web listener's own keys, checked and bound like every protocol's, each bad one refused in one line.</summary>
public sealed class WebListenerOptionsTests
{
    private static Dictionary<string, string?> WithWeb()
    {
        var values = ConfigurationFailures.OneListenerEach();
        values["EchoHost:Listeners:Web:Protocol"] = "Web";
        values["EchoHost:Listeners:Web:Port"] = "8081";
        return values;
    }

    [Fact]
    public void A_web_listener_has_the_documented_defaults_and_binds_its_keys()
    {
        var values = WithWeb();
        var web = Assert.Single(ConfigurationFailures.Listeners(values).All, l => l.Name == "Web").Own<WebListenerOptions>();
        Assert.Equal((0, 65536, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), (web.AllowedOrigins.Length, web.MaxMessageBytes, web.KeepAliveInterval, web.KeepAliveTimeout));

        values["EchoHost:Listeners:Web:AllowedOrigins:0"] = "https://chat.example.org";
        values["EchoHost:Listeners:Web:MaxMessageBytes"] = "1024";
        web = Assert.Single(ConfigurationFailures.Listeners(values).All, l => l.Name == "Web").Own<WebListenerOptions>();
        Assert.Equal(["https://chat.example.org"], web.AllowedOrigins);
        Assert.Equal(1024, web.MaxMessageBytes);
    }

    [Theory]
    [InlineData("EchoHost:Listeners:Web:AllowedOrigins:0", "chat.example.org", "EchoHost:Listeners:Web:AllowedOrigins: 'chat.example.org' is not an origin; use scheme://host[:port], such as https://chat.example.org, or *")]
    [InlineData("EchoHost:Listeners:Web:AllowedOrigins:0", "https://chat.example.org/page", "EchoHost:Listeners:Web:AllowedOrigins: 'https://chat.example.org/page' is not an origin; use scheme://host[:port], such as https://chat.example.org, or *")]
    [InlineData("EchoHost:Listeners:Web:MaxMessageBytes", "0", "EchoHost:Listeners:Web:MaxMessageBytes: 0 is out of range; use 1 to 16777216")]
    [InlineData("EchoHost:Listeners:Web:KeepAliveInterval", "-00:00:01", "EchoHost:Listeners:Web:KeepAliveInterval: -00:00:01 is negative; use 0 to turn pings off")]
    [InlineData("EchoHost:Listeners:Web:Banner", "hi", "EchoHost:Listeners:Web:Banner: ")]
    [InlineData("EchoHost:Listeners:Echo:AllowedOrigins:0", "*", "EchoHost:Listeners:Echo:AllowedOrigins: applies to Web listeners only; remove it from this Echo listener")]
    public void A_bad_or_misplaced_key_is_one_line(string key, string value, string expected)
    {
        var values = WithWeb();
        values[key] = value;
        Assert.StartsWith(expected, Assert.Single(ConfigurationFailures.Of(values)));
    }
}
