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
    /// Before everything, the process-wide budgets (memory, descriptors) admit or refuse the connection: a refusal there
    /// costs nothing more, and the descriptor count includes connections still in their PROXY or TLS handshake.
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

        metrics.DeclareConnectionSeries(ResourceBudgetMiddleware.TagValues);
        listenOptions.UseResourceBudgets(services, metrics);
        if (listener.ProxyProtocol != ProxyProtocolMode.Off)
        {
            metrics.DeclareConnectionSeries(ProxyProtocolRefusals.TagValues);
            listenOptions.Use(next => new ProxyProtocolMiddleware(next, listener, metrics, logger).InvokeAsync);
        }

        listenOptions.Use(next => new ConnectionSessionMiddleware(next, listener, logger).InvokeAsync);
        listenOptions.Use(next => new ConnectionLimitMiddleware(next, listener, metrics, logger).InvokeAsync);
        if (tlsCertificate is not null)
        {
            listenOptions.UseEchoHostTls(listener, tlsCertificate, metrics, services.GetRequiredService<TlsHandshakeMemory>(), time, logger);
        }

        listenOptions.Use(next => new ConnectionLoggingMiddleware(next, listener, logger).InvokeAsync);
        listenOptions.Use(next => new ConnectionMetricsMiddleware(next, metrics).InvokeAsync);
        listenOptions.Use(next => connection => registry.TrackAsync(connection, next));
        listenOptions.Use(next => new ByteCountingMiddleware(next, metrics, logger).InvokeAsync);
        listenOptions.Use(next => new IdleTimeoutMiddleware(next, listener, metrics, logger).InvokeAsync);
        listenOptions.Use(next => new CloseGraceMiddleware(next, listener, time, logger).InvokeAsync);
        return listenOptions;
    }

    /// <summary>
    /// The HTTP endpoint's share of the pipeline: the process-wide budgets, then the caps a listener has
    /// (<c>MaxConnections</c>, <c>MaxConnectionsPerIp</c>), logged and counted under the endpoint's name. Kestrel's HTTP
    /// handling follows; its idle rule is Kestrel's keep-alive timeout.
    /// </summary>
    public static ListenOptions UseEchoHostHttpLimits(this ListenOptions listenOptions, HttpEndpointDefinition http, IServiceProvider services)
    {
        var metrics = services.GetRequiredService<EchoHostMetrics>().ForListener(HttpEndpointDefinition.Name, "http");
        metrics.DeclareRefusalSeries([.. ResourceBudgetMiddleware.TagValues, .. LimitRefusals.TagValues]);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("EchoHost.Http");
        listenOptions.UseResourceBudgets(services, metrics);
        listenOptions.Use(next => new ConnectionLimitMiddleware(next, HttpEndpointDefinition.Name, http.MaxConnections, http.MaxConnectionsPerIp, metrics, logger).InvokeAsync);
        return listenOptions;
    }

    private static void UseResourceBudgets(this ListenOptions listenOptions, IServiceProvider services, ListenerMetrics metrics)
    {
        var memory = services.GetRequiredService<MemoryBudget>();
        var descriptors = services.GetRequiredService<DescriptorBudget>();
        listenOptions.Use(next => new ResourceBudgetMiddleware(next, memory, descriptors, metrics).InvokeAsync);
    }
}
