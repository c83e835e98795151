using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

/// <summary>The root appsettings.json is the user's file: its defaults are part of the contract.</summary>
public sealed class ShippedConfigurationTests
{
    private static string RootAppSettings => Repository.Path("appsettings.json");

    /// <summary>EchoHost's own build output, in the configuration (Debug, Release) the tests were built in.</summary>
    private static string HostBuildOutput
    {
        get
        {
            // …/tests/EchoHost.Tests/bin/Release/net10.0/ → …/src/EchoHost/bin/Release/net10.0/
            var framework = new DirectoryInfo(AppContext.BaseDirectory);
            return Repository.Path($"src/EchoHost/bin/{framework.Parent!.Name}/{framework.Name}");
        }
    }

    [Fact]
    public void The_build_ships_the_root_file_unchanged() =>
        Assert.Equal(File.ReadAllText(RootAppSettings), File.ReadAllText(Path.Combine(HostBuildOutput, "appsettings.json")));

    [Fact]
    public void Tests_run_the_host_on_a_configuration_of_their_own()
    {
        // A listener the user adds to the root file (port 7007, say) must not reach a host the tests start beside
        // their running server; only the shipped-file tests read the root file.
        var beside = File.ReadAllText(Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "appsettings.json"));

        Assert.Equal(File.ReadAllText(Repository.Path("tests/EchoHost.Tests/host.appsettings.json")), beside);
        Assert.Equal(File.ReadAllText(RootAppSettings), File.ReadAllText(Path.Combine(Path.GetDirectoryName(HostProcess.ShippedHostDll)!, "appsettings.json")));
    }

    [Fact]
    public void Root_file_defines_the_documented_defaults_and_is_valid()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(RootAppSettings).Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);

        Assert.True(TestProtocols.Validator().Validate(null, options).Succeeded);
        Assert.Equal("localhost", options.Address);
        Assert.Equal(8080, options.Http.Port);
        var echo = Assert.Single(ListenerSet.Of(options, TestProtocols.Registry).All, l => l.Name == "Echo");
        Assert.Equal("Echo", echo.Protocol.Name);
        Assert.Equal(65432, echo.Port);
        Assert.Equal(TimeSpan.FromMinutes(5), echo.IdleTimeout);
        var udp = Assert.Single(ListenerSet.Of(options, TestProtocols.Registry).All, l => l.Name == "UdpEcho");
        Assert.Equal("UdpEcho", udp.Protocol.Name);
        Assert.Equal(65400, udp.Port);
        Assert.Equal(BindAddress.Localhost, udp.Address);
        Assert.Equal(UdpLimits.Default.DenySourcePorts, udp.Udp.DenySourcePorts);
        Assert.Equal(UdpLimits.Default.MaxDatagramBytes, udp.Udp.MaxDatagramBytes);
        Assert.Equal(UdpLimits.Default.PerSourceDatagramsPerSecond, udp.Udp.PerSourceDatagramsPerSecond);
    }

    [Fact]
    public async Task Environment_style_keys_override_the_file()
    {
        // What EchoHost__Listeners__Echo__Port=7000 becomes once the environment provider has read it.
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:Banner"] = "from the environment",
        });
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());

        Assert.Equal("from the environment\r\n"u8.ToArray(), await socket.ReceiveExactlyAsync(22));
    }
}
