using EchoHost.Chat;
using EchoHost.Configuration;
using EchoHost.Connections;
using EchoHost.Echo;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// Turns every enabled TCP listener of configuration into a Kestrel endpoint: the shared connection middleware,
/// then the listener's protocol handler. Also binds the HTTP endpoint.
/// </summary>
internal sealed class KestrelListenerSetup(
    ListenerRegistry registry,
    EchoHostMetrics metrics,
    ConnectionRegistry connections,
    IServiceProvider services,
    ILoggerFactory loggerFactory)
    : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions kestrel)
    {
        foreach (var listener in registry.TcpListeners)
        {
            Listen(kestrel, listener.Address, listener.Port, listenOptions =>
            {
                var limiter = new ConnectionLimiter(listener.MaxConnections, listener.MaxConnectionsPerIp);
                var logger = loggerFactory.CreateLogger($"EchoHost.{listener.Protocol}");
                var listenerMetrics = metrics.ForListener(listener.Name, listener.ProtocolName);
                listenOptions.Use(next => new ListenerConnectionMiddleware(next, listener, limiter, listenerMetrics, connections, logger).InvokeAsync);
                var handler = CreateHandler(listener);
                listenOptions.Run(handler.OnConnectedAsync);
                registry.AddTcpEndpoint(listener, listenOptions);
            });
        }

        if (registry.Options.Http.Enabled)
        {
            Listen(kestrel, ListenerDefinition.HttpAddress(registry.Options), registry.Options.Http.Port, listenOptions =>
            {
                listenOptions.Protocols = HttpProtocols.Http1;
                registry.SetHttpEndpoint(listenOptions);
            });
        }
    }

    private ConnectionHandler CreateHandler(ListenerDefinition listener) => listener.Protocol switch
    {
        ListenerProtocol.Echo => ActivatorUtilities.CreateInstance<EchoConnectionHandler>(services, listener),
        ListenerProtocol.Chat => ActivatorUtilities.CreateInstance<ChatConnectionHandler>(services, listener),
        _ => throw new InvalidOperationException($"{listener.ConfigPath}:Protocol: {listener.Protocol} is not a TCP protocol."),
    };

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
}
