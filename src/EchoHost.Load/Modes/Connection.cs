using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace EchoHost.Load.Modes;

/// <summary>
/// One client connection of a TCP mode: the socket, and with <c>--tls</c> (or <c>wss://</c>) an <see cref="SslStream"/> over it. Plain
/// connections call the socket directly (no stream in between); TLS ones go through the stream, whose buffers are
/// its own and reused, so an operation allocates nothing beyond what SslStream itself does.
/// </summary>
internal sealed class Connection : IDisposable
{
    private readonly LoadTarget _target;
    private readonly LoadOptions _options;
    private SslStream? _tls;

    public Connection(LoadOptions options, LoadTarget target, IPAddress? source)
    {
        _options = options;
        _target = target;
        Socket = Tcp.NewSocket(target.EndPoint, source);
    }

    /// <summary>The socket: what the watchdog closes when an operation runs out of time.</summary>
    public Socket Socket { get; }

    /// <summary>Connects and, with <c>--tls</c> or a <c>wss://</c> target, completes the TLS handshake (SNI: the target's host name).</summary>
    public async ValueTask ConnectAsync(CancellationToken cancel = default)
    {
        await Socket.ConnectAsync(_target.EndPoint, cancel);
        if (!_options.Tls && !_target.IsSecureWebSocket)
        {
            return;
        }

        var tls = new SslStream(new NetworkStream(Socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = _target.Host,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                // A benchmark's or a test's certificate is self-signed: checked only with --tls-verify.
                RemoteCertificateValidationCallback = _options.TlsVerify ? null : static (_, _, _, _) => true,
            }, cancel);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }

        _tls = tls;
    }

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        if (_tls is not null)
        {
            await _tls.WriteAsync(data);
            return;
        }

        while (data.Length > 0)
        {
            var n = await Socket.SendAsync(data, SocketFlags.None);
            data = data[n..];
        }
    }

    /// <summary>Sends all of <paramref name="data"/> now, on the calling thread (chat's one sender loop).</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        if (_tls is not null)
        {
            _tls.Write(data);
            return;
        }

        while (data.Length > 0)
        {
            data = data[Socket.Send(data)..];
        }
    }

    /// <summary>Reads what has arrived (at least one byte); 0 when the server closed.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer) =>
        _tls is not null ? _tls.ReadAsync(buffer) : Socket.ReceiveAsync(buffer, SocketFlags.None);

    public bool IsTls => _tls is not null;

    /// <summary>The connection as a stream, for a WebSocket over it: the TLS stream, or the socket's own.</summary>
    public Stream AsStream() => _tls is not null ? _tls : new NetworkStream(Socket, ownsSocket: false);

    /// <summary>
    /// Half-close: no more data from us. Over TLS, a close_notify first, then the TCP FIN; not while a read is
    /// decrypting on another thread (OpenSSL's shutdown and read must not overlap).
    /// </summary>
    public async ValueTask ShutdownSendAsync()
    {
        if (_tls is not null)
        {
            await _tls.ShutdownAsync();
        }

        Socket.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        _tls?.Dispose();
        Socket.Dispose();
    }

    /// <summary>Whether <paramref name="ex"/> is what a failed or closed connection throws (plain or TLS).</summary>
    public static bool IsFailure(Exception ex) =>
        ex is SocketException or ObjectDisposedException or IOException or AuthenticationException or System.Security.Cryptography.CryptographicException
            or System.Net.WebSockets.WebSocketException;
}
