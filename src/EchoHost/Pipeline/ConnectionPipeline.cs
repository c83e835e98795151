using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Pipeline;

internal static class ConnectionPipeline
{
    /// <summary>
    /// Puts EchoHost's connection pipeline in front of a listener's protocol handler, one concern per middleware,
    /// outermost first: the session (shared state, log scope, shutdown notice) → connection limits → access log →
    /// connection metrics → <c>/connections</c> → byte counting → idle timeout → the close grace. Handlers hold
    /// protocol logic only.
    /// </summary>
    /// <remarks>
    /// With the PROXY protocol on, its header is read before all of them (and before TLS, which it precedes on the
    /// wire), so everything sees the real client. With <paramref name="tlsCertificate"/>, the TLS handshake runs once
    /// the limits admitted the connection and before the access log: a failed handshake is a refusal, and everything
    /// after it sees plaintext.
    /// </remarks>
    public static ListenOptions UseEchoHostConnection(this ListenOptions listenOptions, ListenerDefinition listener, IServiceProvider services,
        Func<System.Net.Security.SslStreamCertificateContext>? tlsCertificate = null)
    {
        var metrics = services.GetRequiredService<EchoHostMetrics>().ForListener(listener.Name, listener.ProtocolName);
        metrics.DeclareConnectionSeries(LimitRefusals.TagValues);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger($"EchoHost.{listener.Protocol}");
        var registry = services.GetRequiredService<ConnectionRegistry>();
        var time = services.GetRequiredService<TimeProvider>();

        if (listener.ProxyProtocol != ProxyProtocolMode.Off)
        {
            metrics.DeclareConnectionSeries(ProxyProtocolRefusals.TagValues);
            listenOptions.Use(next => new ProxyProtocolMiddleware(next, listener, metrics, logger).InvokeAsync);
        }

        listenOptions.Use(next => new ConnectionSessionMiddleware(next, listener, logger).InvokeAsync);
        listenOptions.Use(next => new ConnectionLimitMiddleware(next, listener, metrics, logger).InvokeAsync);
        if (tlsCertificate is not null)
        {
            listenOptions.UseEchoHostTls(listener, tlsCertificate, metrics, time, logger);
        }

        listenOptions.Use(next => new ConnectionLoggingMiddleware(next, listener, logger).InvokeAsync);
        listenOptions.Use(next => new ConnectionMetricsMiddleware(next, metrics).InvokeAsync);
        listenOptions.Use(next => connection => registry.TrackAsync(connection, next));
        listenOptions.Use(next => new ByteCountingMiddleware(next, metrics, logger).InvokeAsync);
        listenOptions.Use(next => new IdleTimeoutMiddleware(next, listener, metrics, logger).InvokeAsync);
        listenOptions.Use(next => new CloseGraceMiddleware(next, listener, time, logger).InvokeAsync);
        return listenOptions;
    }
}
