using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// The TLS row's certificate, made at run time (never a key on disk beyond the run): self-signed, ECDSA P-256, for
/// <c>localhost</c> and 127.0.0.1, written as PEM files that both the baseline and EchoHost read.
/// </summary>
internal static class SelfSignedCertificate
{
    /// <summary>Writes <c>tls.crt</c> and <c>tls.key</c> into <paramref name="directory"/>; returns their paths.</summary>
    public static (string CertificatePath, string KeyPath) WritePem(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var certificatePath = Path.Combine(directory, "tls.crt");
        var keyPath = Path.Combine(directory, "tls.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
