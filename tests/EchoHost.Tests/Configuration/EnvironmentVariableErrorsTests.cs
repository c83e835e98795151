using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EchoHost.Tests.Configuration;

/// <summary>A bad key set by an environment variable: the line names the variable the user set, beside the key.</summary>
public sealed class EnvironmentVariableErrorsTests
{
    [Fact]
    public void An_unknown_key_from_an_environment_variable_names_the_variable()
    {
        // A prefix no host reads, so the variable cannot reach another test's host in this process.
        const string prefix = "ECHOHOST_TEST_ENV_NAMING_";
        Environment.SetEnvironmentVariable($"{prefix}EchoHost__Listeners__Echo__Prot", "Echo");
        Environment.SetEnvironmentVariable($"{prefix}EchoHost__Chat__MaxUsers", "lots");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["EchoHost:Listeners:Echo:Protocol"] = "Echo", ["EchoHost:Listeners:Echo:Port"] = "7" })
                .AddEnvironmentVariables(prefix)
                .Build();

            var failure = Assert.Throws<OptionsValidationException>(() => ConfigurationShape.Bind(configuration.GetSection("EchoHost"), new EchoHostOptions(), configuration, TestProtocols.Registry));

            Assert.Equal(
                [
                    $"EchoHost:Listeners:Echo:Prot (environment variable {prefix}EchoHost__Listeners__Echo__Prot): unknown key; did you mean Protocol? known keys here are "
                        + "Protocol, Port, Address, Enabled, IdleTimeout, MaxConnections, MaxConnectionsPerIp, Banner, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout",
                    $"EchoHost:Chat:MaxUsers (environment variable {prefix}EchoHost__Chat__MaxUsers): 'lots' is not a whole number",
                ],
                failure.Failures.Order(StringComparer.Ordinal).Reverse());
        }
        finally
        {
            Environment.SetEnvironmentVariable($"{prefix}EchoHost__Listeners__Echo__Prot", null);
            Environment.SetEnvironmentVariable($"{prefix}EchoHost__Chat__MaxUsers", null);
        }
    }

    [Fact]
    public void A_key_from_a_file_or_the_command_line_names_no_variable()
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(["--EchoHost:Listeners:Echo:Prot=Echo"]).Build();

        var failure = Assert.Throws<OptionsValidationException>(() => ConfigurationShape.Bind(configuration.GetSection("EchoHost"), new EchoHostOptions(), configuration, TestProtocols.Registry));

        Assert.StartsWith("EchoHost:Listeners:Echo:Prot: unknown key; did you mean Protocol?", Assert.Single(failure.Failures));
    }

    [Fact]
    public async Task The_binary_names_the_environment_variable_that_set_an_unknown_key()
    {
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero, new Dictionary<string, string> { ["EchoHost__Listeners__Echo__Prot"] = "Echo" });

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal(
            "EchoHost: configuration error: EchoHost:Listeners:Echo:Prot (environment variable EchoHost__Listeners__Echo__Prot): unknown key; did you mean Protocol? "
                + "known keys here are Protocol, Port, Address, Enabled, IdleTimeout, MaxConnections, MaxConnectionsPerIp, Banner, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout",
            process.StandardError.Trim());
    }

    [Fact]
    public async Task The_binary_names_the_environment_variable_that_set_a_value_out_of_range()
    {
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero[..^1], new Dictionary<string, string> { ["EchoHost__Http__Port"] = "99999" });

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal(
            "EchoHost: configuration error: EchoHost:Http:Port (environment variable EchoHost__Http__Port): 99999 is out of range; use 0 to 65535 (0 picks a free port)",
            process.StandardError.Trim());
    }

    [Fact]
    public void A_value_out_of_range_from_a_file_or_the_command_line_names_no_variable()
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(["--EchoHost:Listeners:Echo:Protocol=Echo", "--EchoHost:Listeners:Echo:Port=99999"]).Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, configuration, TestProtocols.Registry);

        var result = new EchoHostOptionsValidator(TestProtocols.Registry, configuration).Validate(null, options);

        Assert.Equal("EchoHost:Listeners:Echo:Port: 99999 is out of range; use 0 to 65535 (0 picks a free port)", Assert.Single(result.Failures!));
    }
}
