using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// Self-signed server certificates made at test time (never a committed key), written where a test's TLS listener
/// reads them: PEM certificate and key files, or a PKCS#12 file. Valid for <c>localhost</c> and <c>127.0.0.1</c>.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public TestCertificates() => Directory = System.IO.Directory.CreateTempSubdirectory("echohost-tls-").FullName;

    public string Directory { get; }

    public string CertificatePath => Path.Combine(Directory, "tls.crt");

    public string KeyPath => Path.Combine(Directory, "tls.key");

    public string Pkcs12Path => Path.Combine(Directory, "tls.p12");

    public static X509Certificate2 Create(string subject = "localhost", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(subject);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Writes the certificate and its key as PEM, the form Kubernetes TLS secrets hold; returns the certificate.</summary>
    public X509Certificate2 WritePem(X509Certificate2? certificate = null)
    {
        certificate ??= Create();
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    public X509Certificate2 WritePkcs12(string password, X509Certificate2? certificate = null)
    {
        certificate ??= Create();
        File.WriteAllBytes(Pkcs12Path, certificate.Export(X509ContentType.Pkcs12, password));
        return certificate;
    }

    /// <summary>Makes the files look written a while ago, so the listener picks them up on its next check without a wait.</summary>
    public void Age(TimeSpan by)
    {
        foreach (var file in System.IO.Directory.GetFiles(Directory))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow - by);
        }
    }

    /// <summary>The configuration of a TLS listener named <paramref name="listener"/> that reads the PEM files.</summary>
    public Dictionary<string, string?> PemConfig(string listener = "Echo") => new()
    {
        [$"EchoHost:Listeners:{listener}:Tls:CertificatePath"] = CertificatePath,
        [$"EchoHost:Listeners:{listener}:Tls:KeyPath"] = KeyPath,
    };

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
