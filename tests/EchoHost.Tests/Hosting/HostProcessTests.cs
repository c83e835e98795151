using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>The published behaviour of the binary itself: exit codes, stderr, signals. Uses the shipped appsettings.json.</summary>
public sealed class HostProcessTests
{
    public static TheoryData<string[], string> BadConfigurations => new()
    {
        { ["--EchoHost:Listeners:Echo:Port=70000"], "EchoHost: configuration error: EchoHost:Listeners:Echo:Port: 70000 is out of range; use 0 to 65535 (0 picks a free port)" },
        { ["--Serilog:WriteTo:0:Args:outputTemplate="], "EchoHost: configuration error: Serilog:WriteTo:0:Args:outputTemplate: empty, which would silence the log; remove it for the default template, or set EchoHost:Logging:Format=Json" },
        { ["--Serilog:WriteTo:0:Name=Consol"], "EchoHost: configuration error: Serilog:WriteTo:0:Name: 'Consol' is no sink Serilog can find, which would silence the log; use Console (the sink EchoHost ships), or set EchoHost:Logging:Format=Json" },
        { ["--EchoHost:Logging:Format=Xml"], "EchoHost: configuration error: EchoHost:Logging:Format: 'Xml' is not one of Text, Json" },
        { ["--EchoHost:Listeners:Echo:Protocol=Gopher"], "EchoHost: configuration error: EchoHost:Listeners:Echo:Protocol: unknown protocol 'Gopher'; use one of Echo, Chat, Irc, Web, UdpEcho" },
        { ["--EchoHost:Listeners:Second:Protocol=Echo", "--EchoHost:Listeners:Second:Port=65432"], "EchoHost: configuration error: EchoHost:Listeners:Second:Port: 65432 is already used by listener 'Echo'; give each listener its own port" },
        { ["--EchoHost:Address=my-laptop"], "EchoHost: configuration error: EchoHost:Address: 'my-laptop' is not a bind address; use *, localhost or an IP literal such as 0.0.0.0 or ::1" },
        { ["--EchoHost:Listeners:Echo:IdleTimeout=5m"], "EchoHost: configuration error: EchoHost:Listeners:Echo:IdleTimeout: '5m' is not a duration; write hh:mm:ss, such as 00:05:00 (or d.hh:mm:ss)" },
        { ["--EchoHost:Listeners:Echo:MaxConections=5"], "EchoHost: configuration error: EchoHost:Listeners:Echo:MaxConections: unknown key; did you mean MaxConnections? known keys here are Protocol, Port, Address, Enabled, IdleTimeout, MaxConnections, MaxConnectionsPerIp, Banner, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout" },
        { ["--EchoHost:Listeners:UdpEcho:DenySourcePorts:2=x"], "EchoHost: configuration error: EchoHost:Listeners:UdpEcho:DenySourcePorts:2: 'x' is not a whole number" },
        { ["--EchoHost:Listeners:UdpEcho:IdleTimeout=00:01:00"], "EchoHost: configuration error: EchoHost:Listeners:UdpEcho:IdleTimeout: applies to TCP listeners only; remove it from this UdpEcho listener" },
        { ["--EchoHost:Listeners:UdpEcho:MaxDatagramBytes=70000"], "EchoHost: configuration error: EchoHost:Listeners:UdpEcho:MaxDatagramBytes: 70000 is out of range; use 1 to 65507" },
        { ["--EchoHost:Listeners:Echo:ProxyProtocol=V2"], "EchoHost: configuration error: EchoHost:Listeners:Echo:TrustedProxies: missing; ProxyProtocol is V2, so list the proxies allowed to send the header, such as [ \"10.0.0.0/8\" ] or [ \"127.0.0.1\" ]" },
        { ["--EchoHost:Listeners:Echo:Tls:CertificatePath=/nonexistent/tls.crt"], "EchoHost: configuration error: EchoHost:Listeners:Echo:Tls:CertificatePath: the file '/nonexistent/tls.crt' does not exist" },
        { ["--EchoHost:Listeners:Echo:Banner={hostname}"], "EchoHost: configuration error: EchoHost:Listeners:Echo:Banner: unknown placeholder {hostname}; use {host}, {listener}, {local}, {remote}, {pod}, {namespace}, {node}" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public Task Bad_configuration_exits_non_zero_with_one_clear_line(string[] args, string expectedLine) =>
        AssertFailsToStartAsync(args, expectedLine);

    [Theory]
    [InlineData("--EchoHost:Http:Port=abc", "EchoHost:Http:Port: 'abc' is not a whole number")]
    [InlineData("--EchoHost:Http:Port=99999", "EchoHost:Http:Port: 99999 is out of range; use 0 to 65535 (0 picks a free port)")]
    public async Task Health_probe_with_bad_configuration_says_which_key_and_exits_one(string option, string failure)
    {
        await using var process = HostProcess.Start(["--health", option]);

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal($"EchoHost: configuration error: {failure}", process.StandardError.Trim());
    }

    [Fact]
    public async Task Health_probe_exits_one_when_nothing_answers()
    {
        await using var process = HostProcess.Start(["--health", $"--EchoHost:Http:Port={SocketExtensions.FreeLoopbackPort()}"]);

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.StartsWith("EchoHost: health: http://127.0.0.1:", process.StandardError.Trim());
        Assert.DoesNotContain("   at ", process.StandardError);
    }

    [Fact]
    public async Task Port_in_use_names_the_listener_and_its_key()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        await AssertFailsToStartAsync(
            [.. HostProcess.LoopbackPortZero, $"--EchoHost:Listeners:Echo:Port={port}"],
            $"EchoHost: cannot listen: listener 'Echo' (EchoHost:Listeners:Echo:Port = {port}): 127.0.0.1:{port}: address already in use; stop the program using it or choose another port");
    }

    [Fact]
    public async Task Udp_port_in_use_names_the_listener_and_its_key()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupant.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)occupant.LocalEndPoint!).Port;

        await AssertFailsToStartAsync(
            [.. HostProcess.LoopbackPortZero, $"--EchoHost:Listeners:UdpEcho:Port={port}"],
            $"EchoHost: cannot listen: listener 'UdpEcho' (EchoHost:Listeners:UdpEcho:Port = {port}): 127.0.0.1:{port}/udp: address already in use; stop the program using it or choose another port");
    }

    [Fact]
    public Task Udp_listener_on_an_address_this_machine_lacks_names_the_key() =>
        // 192.0.2.0/24 is TEST-NET-1: never assigned to a real interface.
        AssertFailsToStartAsync(
            [.. HostProcess.LoopbackPortZero, "--EchoHost:Listeners:UdpEcho:Address=192.0.2.1"],
            "EchoHost: cannot listen: listener 'UdpEcho' (EchoHost:Listeners:UdpEcho:Address = 192.0.2.1): 192.0.2.1:0/udp: Cannot assign requested address; use an address this machine has, * or localhost");

    [Fact]
    public async Task Sigterm_with_200_open_connections_closes_them_all_and_exits_zero()
    {
        // Environment variables override appsettings.json, as users will do in containers.
        await using var process = HostProcess.Start([], new Dictionary<string, string>
        {
            ["EchoHost__Address"] = "127.0.0.1",
            ["EchoHost__Listeners__Echo__Port"] = "0",
            ["EchoHost__Listeners__Chat__Port"] = "0",
            ["EchoHost__Listeners__Irc__Port"] = "0",
            ["EchoHost__Listeners__Web__Port"] = "0",
            ["EchoHost__Listeners__UdpEcho__Port"] = "0",
            ["EchoHost__Http__Port"] = "0",
            // Far above what a prompt shutdown needs: hitting it would abort connections and log a warning.
            ["EchoHost__ShutdownTimeout"] = "00:01:00",
        });
        var port = await process.ListenerPortAsync("Echo");
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var sockets = new List<Socket>();
        for (var i = 0; i < 200; i++)
        {
            sockets.Add(await SocketExtensions.ConnectAsync(endPoint));
        }

        await Task.WhenAll(sockets.Select(s => s.AssertEchoesAsync()));

        process.Signal(HostProcess.SIGTERM);

        var closes = await Task.WhenAll(sockets.Select(s => s.ReceiveAsync(new byte[16], SocketFlags.None, TestTimeouts.Token(TestTimeouts.Process)).AsTask()));
        Assert.All(closes, read => Assert.Equal(0, read));
        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.Equal(200, Regex.Matches(process.StandardOutput, @"closed \(server shutdown\)").Count);
        Assert.Contains("EchoHost stopped", process.StandardOutput);
        Assert.DoesNotContain(" WRN]", process.StandardOutput);
        Assert.DoesNotContain(" ERR]", process.StandardOutput);
        sockets.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Shipped_appsettings_is_loaded_from_next_to_the_binary_whatever_the_working_directory()
    {
        // The child runs in the temp directory; only the copy of the root appsettings.json beside EchoHost.dll
        // can provide the listener name and its Serilog console format.
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero);

        var line = await process.WaitForOutputAsync(new Regex(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INF\] Listener Echo \(echo\) listening on 127\.0\.0\.1:\d+/tcp$"));
        var udpLine = await process.WaitForOutputAsync(new Regex(@"^\[.+ INF\] Listener UdpEcho \(udpecho\) listening on 127\.0\.0\.1:\d+/udp$"));

        Assert.True(line.Success);
        Assert.True(udpLine.Success);
        process.Signal(HostProcess.SIGTERM);
        Assert.Equal(0, await process.WaitForExitAsync());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_prints_usage_and_exits_zero_without_starting_anything(string flag)
    {
        // The default ports may well be in use (the README's server): --help must not care.
        await using var process = HostProcess.Start([flag]);

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.StartsWith("EchoHost: a TCP and UDP echo and chat server", process.StandardOutput);
        Assert.Contains("EchoHost --health", process.StandardOutput);
        Assert.Contains("EchoHost__Listeners__Echo__Port=7007", process.StandardOutput);
        Assert.DoesNotContain("listening", process.StandardOutput);
        Assert.Empty(process.StandardError);
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_zero()
    {
        await using var process = HostProcess.Start(["--version"]);

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.Matches(@"^EchoHost \d+\.\d+\.\d+$", process.StandardOutput.Trim());
    }

    [Theory]
    [InlineData("--verbose", "EchoHost: unknown option '--verbose'; configuration keys are written --Section:Key=value, such as --EchoHost:Address=*; --help lists the options")]
    [InlineData("--urls=http://*:9000", "EchoHost: --urls is not used; the HTTP endpoint is EchoHost:Http:Port (and EchoHost:Http:Address), e.g. --EchoHost:Http:Port=9090")]
    public async Task An_unknown_option_is_one_line_and_exit_code_2(string option, string expectedLine)
    {
        await using var process = HostProcess.Start([.. HostProcess.LoopbackPortZero, option]);

        Assert.Equal(2, await process.WaitForExitAsync());
        Assert.Equal(expectedLine, process.StandardError.Trim());
        Assert.DoesNotContain("listening", process.StandardOutput);
    }

    [Fact]
    public async Task Aspnetcore_urls_is_answered_with_one_line_naming_the_keys_to_use_not_a_kestrel_warning()
    {
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://*:9000" });

        var line = await process.WaitForOutputAsync(new Regex(@"WRN\] Not used by EchoHost: ASPNETCORE_URLS=http://\*:9000\. The HTTP endpoint is EchoHost:Http:Port and EchoHost:Http:Address \(now 127\.0\.0\.1:\d+\); listeners are EchoHost:Listeners$"));
        await process.WaitForOutputAsync(new Regex("EchoHost started"));
        process.Signal(HostProcess.SIGTERM);

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.True(line.Success);
        Assert.DoesNotContain("Overriding address", process.StandardOutput);
        Assert.Single(process.StandardOutput.Split('\n'), l => l.Contains(" WRN]", StringComparison.Ordinal));
    }

    /// <summary>The process exits with code 1 and prints exactly <paramref name="expectedLine"/> on stderr, no stack trace.</summary>
    private static async Task AssertFailsToStartAsync(string[] args, string expectedLine)
    {
        await using var process = HostProcess.Start(args);

        var exitCode = await process.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Equal(expectedLine, process.StandardError.Trim());
        Assert.DoesNotContain("   at ", process.StandardOutput + process.StandardError);
    }
}
