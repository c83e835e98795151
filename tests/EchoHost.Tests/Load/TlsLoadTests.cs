using System.Net;
using EchoHost.Baseline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Load;

/// <summary>
/// <c>--tls</c>: every TCP mode over TLS against EchoHost's TLS echo listener (in-process, port 0) and against the
/// bare baseline's Kestrel TLS, with every byte checked; and the failures a TLS client must report.
/// </summary>
public sealed class TlsLoadTests
{
    public static TheoryData<string, string[]> TcpModes => new()
    {
        { "pingpong", ["--connections", "4", "--size", "100"] },
        { "pingpong", ["--connections", "2", "--size", "70000"] },
        { "stream", ["--connections", "2", "--size", "64k"] },
        { "churn", ["--connections", "2"] },
        { "hold", ["--connections", "50"] },
    };

    private static async Task<TestHost> StartTlsEchoHostAsync(TestCertificates certificates)
    {
        certificates.WritePem();
        var config = certificates.PemConfig("Echo");
        config["EchoHost:Listeners:Chat:Protocol"] = "Chat";
        config["EchoHost:Listeners:Chat:Port"] = "0";
        foreach (var (key, value) in certificates.PemConfig("Chat"))
        {
            config[key] = value;
        }

        return await TestHost.StartAsync(config);
    }

    [Theory]
    [MemberData(nameof(TcpModes))]
    public async Task Tcp_modes_over_TLS_against_EchoHost_verify_every_byte(string mode, string[] options)
    {
        using var certificates = new TestCertificates();
        await using var host = await StartTlsEchoHostAsync(certificates);
        var run = await LoadClientRun.RunAsync([mode, "--tls", "--target", $"localhost:{host.EndPoint().Port}", "--duration", "1", "--json", .. options]);
        run.AssertClean(minOps: mode == "hold" ? 50 : 5);
    }

    [Theory]
    [MemberData(nameof(TcpModes))]
    public async Task Tcp_modes_over_TLS_against_the_bare_baseline_verify_every_byte(string mode, string[] options)
    {
        using var certificate = TestCertificates.Create();
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), certificate);
        var run = await LoadClientRun.RunAsync([mode, "--tls", "--target", server.EndPoint.ToString(), "--duration", "1", "--json", .. options]);
        run.AssertClean(minOps: mode == "hold" ? 50 : 5);
    }

    [Fact]
    public async Task Chat_over_TLS_makes_every_delivery()
    {
        using var certificates = new TestCertificates();
        await using var host = await StartTlsEchoHostAsync(certificates);
        var run = await LoadClientRun.RunAsync("chat", "--tls", "--target", host.EndPoint("Chat").ToString(), "--connections", "6", "--rate", "12", "--duration", "1", "--json");
        run.AssertClean(minOps: 20);
        Assert.Equal(0, run.Json.GetProperty("chat").GetProperty("missing").GetInt64());
    }

    [Fact]
    public async Task Tls_against_a_plain_server_is_a_handshake_error()
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var run = await LoadClientRun.RunAsync("pingpong", "--tls", "--target", server.EndPoint.ToString(), "--connections", "1", "--duration", "1", "--timeout", "2s", "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, run.Number("errors"));
        Assert.Contains("connecting failed", run.Json.GetProperty("firstError").GetString());
    }

    [Fact]
    public async Task Tls_verify_rejects_a_self_signed_certificate_and_plain_tls_accepts_it()
    {
        using var certificate = TestCertificates.Create();
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), certificate);
        var target = $"localhost:{server.EndPoint.Port}";

        var verified = await LoadClientRun.RunAsync("pingpong", "--tls-verify", "--target", target, "--connections", "1", "--count", "10", "--json");
        Assert.Equal(1, verified.ExitCode);
        Assert.Contains("TLS handshake", verified.Json.GetProperty("firstError").GetString());

        (await LoadClientRun.RunAsync("pingpong", "--tls", "--target", target, "--connections", "1", "--count", "10", "--json")).AssertClean(minOps: 10);
    }
}
