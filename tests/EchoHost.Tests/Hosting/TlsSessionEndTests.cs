using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>How a TLS session that ends after its handshake is told in the access log.</summary>
public sealed class TlsSessionEndTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    /// <summary>
    /// A TLS 1.2 client asks to renegotiate (s_client's "R" command); the server refuses, and the session ends. The
    /// client did not reset anything: the access log says it was a TLS error.
    /// </summary>
    [ToolFact(ExternalTools.Openssl)]
    public async Task A_refused_renegotiation_is_logged_as_a_tls_error_not_a_reset()
    {
        _certificates.WritePem();
        await using var host = await TestHost.StartAsync(_certificates.PemConfig());
        await using var client = InteractiveTool.Start("openssl", "s_client", "-tls1_2", "-connect", $"127.0.0.1:{host.EndPoint().Port}");
        await client.WriteAsync("hello\n"u8.ToArray());
        await client.WaitForOutputAsync(output => Encoding.ASCII.GetString(output).Contains("hello\n"));
        await client.WriteAsync("R\n"u8.ToArray());

        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains("closed ("));
        Assert.Contains("closed (TLS error)", closed.Message);
    }
}
