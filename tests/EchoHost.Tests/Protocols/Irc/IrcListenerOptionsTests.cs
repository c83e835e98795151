using EchoHost.Protocols.Irc;
using EchoHost.Tests.Configuration;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>The IRC listener's own keys, checked and bound like every protocol's, each bad one refused in one line.</summary>
public sealed class IrcListenerOptionsTests
{
    private static IReadOnlyList<string> Failures(string key, string value)
    {
        var values = ConfigurationFailures.OneListenerEach();
        values[key] = value;
        return ConfigurationFailures.Of(values);
    }

    [Fact]
    public void An_irc_listener_reads_512_bytes_and_echohost_unless_told_otherwise()
    {
        var values = ConfigurationFailures.OneListenerEach();
        var irc = Assert.Single(ConfigurationFailures.Listeners(values).All, l => l.Name == "Irc").Own<IrcListenerOptions>();
        Assert.Equal(512, irc.MaxLineBytes);
        Assert.Equal("echohost", irc.ServerName);

        values["EchoHost:Listeners:Irc:MaxLineBytes"] = "1024";
        values["EchoHost:Listeners:Irc:ServerName"] = "irc.example.org";
        irc = Assert.Single(ConfigurationFailures.Listeners(values).All, l => l.Name == "Irc").Own<IrcListenerOptions>();
        Assert.Equal((1024, "irc.example.org"), (irc.MaxLineBytes, irc.ServerName));
    }

    [Theory]
    [InlineData("EchoHost:Listeners:Irc:MaxLineBytes", "100", "EchoHost:Listeners:Irc:MaxLineBytes: 100 is out of range; use 512 to 8192")]
    [InlineData("EchoHost:Listeners:Irc:ServerName", "my server", "EchoHost:Listeners:Irc:ServerName: 'my server' is not a host name; use letters, digits, '.' and '-', such as irc.example.org")]
    [InlineData("EchoHost:Listeners:Irc:Greeting", "Minimal", "EchoHost:Listeners:Irc:Greeting: applies to Chat listeners only; remove it from this Irc listener")]
    [InlineData("EchoHost:Listeners:Chat:MaxLineBytes", "512", "EchoHost:Listeners:Chat:MaxLineBytes: applies to Irc listeners only; remove it from this Chat listener")]
    public void A_bad_or_misplaced_key_is_one_line(string key, string value, string expected) =>
        Assert.Equal(expected, Assert.Single(Failures(key, value)));

    [Fact]
    public void An_irc_listener_takes_no_banner() =>
        Assert.StartsWith("EchoHost:Listeners:Irc:Banner: ", Assert.Single(Failures("EchoHost:Listeners:Irc:Banner", "hi")));
}
