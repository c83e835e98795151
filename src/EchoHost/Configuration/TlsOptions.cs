namespace EchoHost.Configuration;

/// <summary>
/// <c>EchoHost:Listeners:&lt;Name&gt;:Tls</c>: the listener serves TLS 1.2 and 1.3 with this certificate. Either PEM
/// files (<c>CertificatePath</c> and <c>KeyPath</c>, what Kubernetes secrets and cert-manager produce) or a PKCS#12
/// file (<c>Pkcs12Path</c>). A changed file is picked up for new connections without a restart.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>
    /// A stalled handshake holds what the client sent of its ClientHello (TLS allows ~128 KiB; ~250 KiB of native memory
    /// each, measured) until <c>HandshakeTimeout</c>: 100 from one address are ~25 MiB.
    /// </summary>
    public const int DefaultMaxHandshakesPerIp = 100;

    /// <summary>The listener's whole share of stalled handshakes: ~250 MiB at ~250 KiB each.</summary>
    public const int DefaultMaxHandshakes = 1_000;

    /// <summary>The PEM certificate (chain); the private key may follow in the same file when <c>KeyPath</c> is unset.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <c>CertificatePath</c>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>A PKCS#12 (.pfx, .p12) file holding the certificate and its key; instead of the PEM files.</summary>
    public string? Pkcs12Path { get; set; }

    /// <summary>
    /// The environment variable holding the password of <c>Pkcs12Path</c> or of an encrypted PEM key; the password
    /// itself never goes in a configuration file.
    /// </summary>
    public string? PasswordEnvironmentVariable { get; set; }

    /// <summary>A client that has not finished the handshake within this long is closed; unset means 10 seconds.</summary>
    public TimeSpan? HandshakeTimeout { get; set; }

    /// <summary>
    /// Handshakes in progress (from the client's first byte to the end of the handshake) allowed from one client IP;
    /// one more is refused at once. <c>0</c> means no limit; unset means <see cref="DefaultMaxHandshakesPerIp"/>.
    /// </summary>
    public int? MaxHandshakesPerIp { get; set; }

    /// <summary>Handshakes in progress allowed on the listener; <c>0</c> means no limit; unset means <see cref="DefaultMaxHandshakes"/>.</summary>
    public int? MaxHandshakes { get; set; }
}
