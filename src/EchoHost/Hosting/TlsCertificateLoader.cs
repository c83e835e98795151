using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoHost.Configuration;

namespace EchoHost.Hosting;

/// <summary>
/// Reads a listener's certificate and key from its <c>Tls</c> settings — PEM files, or a PKCS#12 file with its
/// password in an environment variable — and checks that it can serve: a private key that belongs to the
/// certificate, and a validity period that includes now. A failure is one line that begins with the key to fix.
/// </summary>
internal static class TlsCertificateLoader
{
    public static bool TryLoad(ListenerDefinition listener, DateTimeOffset now, out X509Certificate2 certificate,
        out X509Certificate2Collection chain, out string error)
    {
        var tls = listener.Tls!;
        var path = $"{listener.ConfigPath}:Tls";
        certificate = null!;
        chain = [];
        string? password = null;
        if (!string.IsNullOrWhiteSpace(tls.PasswordEnvironmentVariable))
        {
            password = Environment.GetEnvironmentVariable(tls.PasswordEnvironmentVariable);
            if (password is null)
            {
                error = $"{path}:PasswordEnvironmentVariable: the environment variable '{tls.PasswordEnvironmentVariable}' is not set";
                return false;
            }
        }

        return (string.IsNullOrWhiteSpace(tls.Pkcs12Path)
                ? TryLoadPem(path, tls, password, out certificate, out chain, out error)
                : TryLoadPkcs12(path, tls.Pkcs12Path, password, out certificate, out error))
            && IsUsable(path, tls, certificate, now, out error);
    }

    /// <summary>The files whose change means the certificate must be read again.</summary>
    public static IReadOnlyList<string> Files(TlsOptions tls) => string.IsNullOrWhiteSpace(tls.Pkcs12Path)
        ? new[] { tls.CertificatePath!, tls.KeyPath }.OfType<string>().Where(p => p.Length > 0).Distinct().ToArray()
        : [tls.Pkcs12Path];

    private static bool TryLoadPem(string path, TlsOptions tls, string? password, out X509Certificate2 certificate,
        out X509Certificate2Collection chain, out string error)
    {
        certificate = null!;
        chain = [];
        var certificatePath = tls.CertificatePath!;
        var keyPath = string.IsNullOrWhiteSpace(tls.KeyPath) ? null : tls.KeyPath;
        var keyKey = keyPath is null ? "CertificatePath" : "KeyPath";
        if (!Readable(path, "CertificatePath", certificatePath, out error) || (keyPath is not null && !Readable(path, "KeyPath", keyPath, out error)))
        {
            return false;
        }

        try
        {
            // Every certificate in the file: the first is the server's, the rest its chain (intermediates).
            chain.ImportFromPemFile(certificatePath);
        }
        catch (CryptographicException ex)
        {
            error = $"{path}:CertificatePath: '{certificatePath}' holds no readable PEM certificate: {ex.Message.TrimEnd('.')}";
            return false;
        }

        if (chain.Count == 0)
        {
            error = $"{path}:CertificatePath: '{certificatePath}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            return false;
        }

        try
        {
            certificate = password is null
                ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            var where = keyPath ?? certificatePath;
            error = $"{path}:{keyKey}: '{where}' holds no private key that matches the certificate in '{certificatePath}'"
                + (password is null ? " (an encrypted key needs PasswordEnvironmentVariable)" : " (or the password is wrong)")
                + $": {ex.Message.TrimEnd('.')}";
            return false;
        }

        chain.RemoveAt(0);
        return true;
    }

    private static bool TryLoadPkcs12(string path, string pkcs12Path, string? password, out X509Certificate2 certificate, out string error)
    {
        certificate = null!;
        if (!Readable(path, "Pkcs12Path", pkcs12Path, out error))
        {
            return false;
        }

        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(pkcs12Path, password, X509KeyStorageFlags.EphemeralKeySet);
            return true;
        }
        catch (CryptographicException ex)
        {
            error = $"{path}:Pkcs12Path: cannot read '{pkcs12Path}' (a PKCS#12 file; is the password in PasswordEnvironmentVariable right?): {ex.Message.TrimEnd('.')}";
            return false;
        }
    }

    private static bool IsUsable(string path, TlsOptions tls, X509Certificate2 certificate, DateTimeOffset now, out string error)
    {
        var key = string.IsNullOrWhiteSpace(tls.Pkcs12Path) ? "CertificatePath" : "Pkcs12Path";
        error = string.Empty;
        if (!certificate.HasPrivateKey)
        {
            error = $"{path}:{key}: the certificate {certificate.Subject} comes without its private key";
        }
        else if (certificate.NotAfter.ToUniversalTime() < now.UtcDateTime)
        {
            error = $"{path}:{key}: the certificate {certificate.Subject} expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; renew it";
        }
        else if (certificate.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            error = $"{path}:{key}: the certificate {certificate.Subject} is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z";
        }

        return error.Length == 0;
    }

    private static bool Readable(string path, string key, string file, out string error)
    {
        error = File.Exists(file) ? string.Empty : $"{path}:{key}: the file '{file}' does not exist";
        return error.Length == 0;
    }
}
