using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// Kestrel's socket transport, with two changes. An endpoint the listener setup marked in <see cref="InlineEndpoints"/>
/// is bound by an <see cref="InlineSocketListener"/>, whose connections run their handler on the socket engine's
/// thread. And a port that is taken or forbidden fails with a <see cref="ListenerBindException"/> that names the
/// listener (or the HTTP endpoint) it belongs to, as UDP listeners do, instead of an exception whose text would have
/// to be parsed. Registered after Kestrel's own transport, so Kestrel uses it for every endpoint.
/// </summary>
internal sealed class ListenerBindFailures(ListenerSet listeners, InlineEndpoints inline, IOptions<SocketTransportOptions> options, ILoggerFactory loggerFactory)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly SocketTransportFactory _sockets = new(options, loggerFactory);
    private readonly Lazy<SocketConnectionContextFactory> _inlineConnections = new(() => new SocketConnectionContextFactory(
        new SocketConnectionFactoryOptions
        {
            // One queue and one memory pool: with inline scheduling no I/O queue schedules anything.
            IOQueueCount = 1,
            UnsafePreferInlineScheduling = true,
            WaitForDataBeforeAllocatingBuffer = options.Value.WaitForDataBeforeAllocatingBuffer,
            MaxReadBufferSize = options.Value.MaxReadBufferSize,
            MaxWriteBufferSize = options.Value.MaxWriteBufferSize,
        },
        loggerFactory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets")));

    public bool CanBind(EndPoint endpoint) => _sockets.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        try
        {
            return inline.Contains(endpoint)
                ? InlineSocketListener.Bind(endpoint, options.Value, _inlineConnections.Value)
                : await _sockets.BindAsync(endpoint, cancellationToken);
        }
        catch (Exception ex) when (endpoint is IPEndPoint ip && SocketErrorOf(ex) is { } error && ListenerBindException.IsAboutThePort(error))
        {
            throw new ListenerBindException(Owner(ip.Port), ip, "tcp", error, ex);
        }
    }

    public void Dispose()
    {
        if (_inlineConnections.IsValueCreated)
        {
            _inlineConnections.Value.Dispose();
        }
    }

    /// <summary>Kestrel reports a taken port as its own AddressInUseException around the SocketException.</summary>
    private static SocketError? SocketErrorOf(Exception ex) => ex switch
    {
        SocketException socket => socket.SocketErrorCode,
        AddressInUseException => SocketError.AddressAlreadyInUse,
        _ => null,
    };

    /// <summary>The TCP listener configured on <paramref name="port"/>; null for the HTTP endpoint.</summary>
    private ListenerDefinition? Owner(int port) => listeners.Tcp.FirstOrDefault(l => l.Port == port && port != 0);
}
