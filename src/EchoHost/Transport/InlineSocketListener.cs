using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace EchoHost.Transport;

/// <summary>
/// One bound endpoint of a listener whose handler may run on the socket engine's thread: Kestrel's accept loop
/// takes connections from it as from Kestrel's own socket listener (same listen socket, backlog and <c>NoDelay</c>),
/// and each connection is Kestrel's own socket connection (receive and send loops, pipes, close handling) made by
/// Kestrel's public <see cref="SocketConnectionContextFactory"/> with inline scheduling — but on a socket whose
/// completions run inline (<see cref="SocketThreads"/>), marked with <see cref="SocketThreadConnection"/> so the
/// connection pipeline applies the <see cref="SocketThreadBudget"/>.
/// </summary>
internal sealed class InlineSocketListener : IConnectionListener
{
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly Socket _listenSocket;
    private readonly SocketConnectionContextFactory _connections;
    private readonly bool _noDelay;

    private InlineSocketListener(Socket listenSocket, SocketConnectionContextFactory connections, bool noDelay)
    {
        (_listenSocket, _connections, _noDelay) = (listenSocket, connections, noDelay);
        EndPoint = listenSocket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    /// <summary>Binds and listens as Kestrel's socket transport does; a taken port is Kestrel's <see cref="AddressInUseException"/>.</summary>
    public static InlineSocketListener Bind(EndPoint endPoint, SocketTransportOptions options, SocketConnectionContextFactory connections)
    {
        Socket socket;
        try
        {
            socket = options.CreateBoundListenSocket(endPoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }

        try
        {
            socket.Listen(options.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new InlineSocketListener(socket, connections, options.NoDelay);
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException
                || ex is SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                // Unbound or disposed: no more connections.
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // Reset while it waited in the backlog: take the next one.
                continue;
            }
            catch (SocketException)
            {
                // Out of descriptors or memory for a moment (the descriptor budget normally refuses first): try again
                // shortly rather than spin on a failing accept or stop the listener for good.
                await Task.Delay(AcceptRetryDelay, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (cancellationToken.IsCancellationRequested)
                {
                    return null;
                }

                continue;
            }

            socket.NoDelay = _noDelay;
            SocketThreads.PreferInline(socket);
            var connection = _connections.Create(socket);
            connection.Features.Set(SocketThreadConnection.Instance);
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listenSocket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _listenSocket.Dispose();
        return default;
    }
}
