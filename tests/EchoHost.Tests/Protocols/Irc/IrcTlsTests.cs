using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>IRC over TLS (the shipped IrcTls listener, 6697, off until turned on) is the shared Tls key, nothing more.</summary>
public sealed class IrcTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task An_irc_client_registers_and_talks_over_tls()
    {
        _certificates.WritePem();
        var config = _certificates.PemConfig("IrcTls");
        config["EchoHost:Listeners:IrcTls:Protocol"] = "Irc";
        config["EchoHost:Listeners:IrcTls:Port"] = "0";
        await using var host = await IrcHost.StartAsync(config);
        using var line = await ChatClient.ConnectAsync(host.EndPoint("Chat"));

        var socket = await SocketExtensions.ConnectAsync(host.EndPoint("IrcTls"));
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // The test certificate is self-signed; what is under test is the listener.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, TestTimeouts.Token());
        using var reader = new StreamReader(tls, new UTF8Encoding(false));
        await tls.WriteAsync("NICK ana\r\nUSER ana 0 * :Ana\r\n"u8.ToArray(), TestTimeouts.Token());

        string? received;
        do
        {
            received = await reader.ReadLineAsync(TestTimeouts.Token());
        }
        while (received is not null && !received.Contains(" 366 ana #lobby ", StringComparison.Ordinal));

        Assert.NotNull(received);
        await line.ReadUntilAsync(l => l == "*** ana joined lobby");
        await tls.WriteAsync("PRIVMSG #lobby :over tls\r\n"u8.ToArray(), TestTimeouts.Token());
        Assert.Equal("<ana> over tls", await line.ReadLineAsync());
    }
}
