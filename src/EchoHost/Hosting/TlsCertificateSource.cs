using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EchoHost.Configuration;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// A TLS listener's current certificate, asked for on every handshake. At most once a second that call compares
/// the files' stamps (write time and size) with those it loaded; a file changed at least a second ago (so a
/// certificate and key written one after the other are read together) is loaded for the next clients, as
/// cert-manager renews in place. A changed file that does not load keeps the current certificate and logs one error.
/// </summary>
internal sealed partial class TlsCertificateSource
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly ListenerDefinition _listener;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _files;
    private readonly Lock _reloadLock = new();
    private SslStreamCertificateContext _current;
    private string _loadedStamp;
    private string? _failedStamp;
    private long _nextCheckTicks;

    private TlsCertificateSource(ListenerDefinition listener, TimeProvider time, ILogger logger, SslStreamCertificateContext current, string stamp)
    {
        _listener = listener;
        _time = time;
        _logger = logger;
        _files = TlsCertificateLoader.Files(listener.Tls!);
        _current = current;
        _loadedStamp = stamp;
        _nextCheckTicks = time.GetUtcNow().Add(CheckInterval).UtcTicks;
    }

    /// <summary>Loads the listener's certificate at start; a problem is a configuration error naming the key.</summary>
    public static TlsCertificateSource Load(ListenerDefinition listener, TimeProvider time, ILogger logger)
    {
        var files = TlsCertificateLoader.Files(listener.Tls!);
        var stamp = Stamp(files);
        if (!TlsCertificateLoader.TryLoad(listener, time.GetUtcNow(), out var certificate, out var chain, out var error))
        {
            throw new OptionsValidationException(EchoHostOptions.SectionName, typeof(EchoHostOptions), [error]);
        }

        var source = new TlsCertificateSource(listener, time, logger, Context(certificate, chain), stamp);
        source.LogLoaded(listener.Name, certificate.Subject, certificate.NotAfter.ToUniversalTime(), certificate.Thumbprint);
        return source;
    }

    public SslStreamCertificateContext Current
    {
        get
        {
            var now = _time.GetUtcNow();
            var next = Interlocked.Read(ref _nextCheckTicks);
            if (now.UtcTicks >= next && Interlocked.CompareExchange(ref _nextCheckTicks, now.Add(CheckInterval).UtcTicks, next) == next)
            {
                CheckForChange(now);
            }

            return Volatile.Read(ref _current);
        }
    }

    private void CheckForChange(DateTimeOffset now)
    {
        lock (_reloadLock)
        {
            var stamp = Stamp(_files);
            if (stamp == _loadedStamp || stamp == _failedStamp || now - NewestWrite(_files) < CheckInterval)
            {
                return;
            }

            if (!TlsCertificateLoader.TryLoad(_listener, now, out var certificate, out var chain, out var error))
            {
                _failedStamp = stamp;
                LogReloadFailed(_listener.Name, error);
                return;
            }

            Volatile.Write(ref _current, Context(certificate, chain));
            _loadedStamp = stamp;
            _failedStamp = null;
            LogReloaded(_listener.Name, certificate.Subject, certificate.NotAfter.ToUniversalTime(), certificate.Thumbprint);
        }
    }

    private static SslStreamCertificateContext Context(X509Certificate2 certificate, X509Certificate2Collection chain) =>
        SslStreamCertificateContext.Create(certificate, chain, offline: true);

    /// <summary>Write time and size of every file, through symbolic links (a Kubernetes secret volume swaps a link).</summary>
    private static string Stamp(IEnumerable<string> files) => string.Join('|', files.Select(file =>
    {
        var info = Resolve(file);
        return info.Exists ? $"{info.LastWriteTimeUtc.Ticks}:{info.Length}" : "missing";
    }));

    private static DateTimeOffset NewestWrite(IEnumerable<string> files) =>
        files.Select(Resolve).Where(i => i.Exists).Select(i => new DateTimeOffset(i.LastWriteTimeUtc)).DefaultIfEmpty(DateTimeOffset.MinValue).Max();

    private static FileInfo Resolve(string file)
    {
        var info = new FileInfo(file);
        try
        {
            return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target : info;
        }
        catch (IOException)
        {
            return info;
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} serves TLS with the certificate {Subject}, valid until {NotAfter:yyyy-MM-dd HH:mm:ss}Z (thumbprint {Thumbprint})")]
    private partial void LogLoaded(string listener, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} TLS certificate changed on disk; new connections get {Subject}, valid until {NotAfter:yyyy-MM-dd HH:mm:ss}Z (thumbprint {Thumbprint})")]
    private partial void LogReloaded(string listener, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Listener} TLS certificate changed on disk but cannot be used; keeping the current one: {Error}")]
    private partial void LogReloadFailed(string listener, string error);
}
