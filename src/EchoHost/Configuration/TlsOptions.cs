namespace EchoHost.Configuration;

/// <summary>
/// <c>EchoHost:Listeners:&lt;Name&gt;:Tls</c>: the listener serves TLS 1.2 and 1.3 with this certificate. Either PEM
/// files (<c>CertificatePath</c> and <c>KeyPath</c>, what Kubernetes secrets and cert-manager produce) or a PKCS#12
/// file (<c>Pkcs12Path</c>). A changed file is picked up for new connections without a restart.
/// </summary>
public sealed class TlsOptions
{
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
}
