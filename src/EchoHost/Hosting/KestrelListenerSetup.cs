using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Pipeline;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// Turns every TCP listener of the <see cref="ListenerSet"/> into a Kestrel endpoint — the connection pipeline, then
/// the listener's protocol handler — and binds the HTTP endpoint; once Kestrel has bound them all, reports where
/// each one is.
/// </summary>
internal sealed class KestrelListenerSetup(ListenerSet listeners, ListenerEndpoints endpoints, InlineEndpoints inline, IServiceProvider services)
    : IConfigureOptions<KestrelServerOptions>, IHostedLifecycleService
{
    private readonly Dictionary<string, ListenOptions> _tcp = new(StringComparer.OrdinalIgnoreCase);
    private ListenOptions? _http;

    public void Configure(KestrelServerOptions kestrel)
    {
        foreach (var listener in listeners.Tcp)
        {
            Listen(kestrel, listener.Address, listener.Port, listenOptions =>
            {
                if (listener.Protocol.HttpApplication is not null)
                {
                    // Kestrel's HTTP/1.1 follows the pipeline (whose TLS, if any, has already run); the app sends the
                    // requests to the listener's branch (ListenerApplications).
                    listenOptions.Protocols = HttpProtocols.Http1;
                    listenOptions.UseEchoHostConnection(listener, services, TlsCertificate(listener));
                }
                else
                {
                    var handler = CreateHandler(listener);
                    listenOptions.UseEchoHostConnection(listener, services, TlsCertificate(listener)).Run(handler.OnConnectedAsync);
                    if (RunsOnSocketThreads(listener))
                    {
                        MarkInline(listener, listenOptions);
                    }
                }

                _tcp[listener.Name] = listenOptions;
            });
        }

        if (listeners.Http.Enabled)
        {
            // Kestrel's HTTP timeouts apply to the HTTP endpoint only (the TCP listeners have their own idle rule): a
            // connection waiting for its next request goes after the idle timeout, not Kestrel's 130 s.
            if (listeners.Http.IdleTimeout > TimeSpan.Zero)
            {
                kestrel.Limits.KeepAliveTimeout = listeners.Http.IdleTimeout;
                kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromTicks(Math.Min(kestrel.Limits.RequestHeadersTimeout.Ticks, listeners.Http.IdleTimeout.Ticks));
            }
            else
            {
                kestrel.Limits.KeepAliveTimeout = Timeout.InfiniteTimeSpan;
            }

            Listen(kestrel, listeners.Http.Address, listeners.Http.Port, listenOptions =>
            {
                listenOptions.Protocols = HttpProtocols.Http1;
                listenOptions.UseEchoHostHttpLimits(listeners.Http, services);
                _http = listenOptions;
            });
        }
    }

    /// <summary>
    /// Whether the listener's handler runs on the socket engine's thread (Transport/InlineSocketListener): its protocol
    /// says the handler is EchoHost's own non-blocking code, and it is plain TCP (a TLS handshake is too long a piece
    /// of work to hold that thread for), and <c>EchoHost:SocketThreads</c> is not false.
    /// </summary>
    private bool RunsOnSocketThreads(ListenerDefinition listener) =>
        listener.Protocol.RunsOnSocketThreads && listener.Tls is null && listeners.Options.SocketThreads && SocketThreads.Available;

    private void MarkInline(ListenerDefinition listener, ListenOptions listenOptions)
    {
        switch (listener.Address.Kind)
        {
            case BindAddressKind.Localhost:
                inline.AddDerived(listener.Port, System.Net.IPAddress.Loopback, System.Net.IPAddress.IPv6Loopback);
                break;
            case BindAddressKind.Any:
                inline.AddDerived(listener.Port, System.Net.IPAddress.Any, System.Net.IPAddress.IPv6Any);
                break;
            default:
                inline.Add(listenOptions.EndPoint);
                break;
        }
    }

    /// <summary>A TLS listener's certificate for each handshake, loaded now so a bad file stops the start.</summary>
    private Func<System.Net.Security.SslStreamCertificateContext>? TlsCertificate(ListenerDefinition listener)
    {
        if (listener.Tls is null)
        {
            return null;
        }

        var source = TlsCertificateSource.Load(listener, services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger($"EchoHost.{listener.Protocol}"));
        return () => source.Current;
    }

    /// <summary>The handler the listener's protocol registered (Protocols/…): the registry, not a switch, knows them.</summary>
    private ConnectionHandler CreateHandler(ListenerDefinition listener) =>
        listener.Protocol.Handler?.Invoke(services, listener)
        ?? throw new InvalidOperationException($"{listener.ConfigPath}:Protocol: {listener.Protocol} registered no TCP handler.");

    private static void Listen(KestrelServerOptions kestrel, BindAddress address, int port, Action<ListenOptions> configure)
    {
        switch (address.Kind)
        {
            case BindAddressKind.Any:
                kestrel.ListenAnyIP(port, configure);
                break;
            case BindAddressKind.Localhost:
                kestrel.ListenLocalhost(port, configure);
                break;
            default:
                kestrel.Listen(address.Ip!, port, configure);
                break;
        }
    }

    /// <summary>Every hosted service has started, Kestrel included, so every endpoint is bound: say where.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, listenOptions) in _tcp)
        {
            if (listenOptions.IPEndPoint is { Port: not 0 } endPoint)
            {
                endpoints.MarkBound(name, [endPoint]);
            }
            else
            {
                endpoints.MarkFailed(name, "Kestrel reported no bound IP endpoint");
            }
        }

        if (_http?.IPEndPoint is { } http)
        {
            endpoints.MarkHttpBound(http);
        }

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
