using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocols.Echo;

/// <summary>
/// RFC 862 echo over TCP: every byte received goes back unmodified, in order, until the client closes its sending
/// side; then everything still buffered is sent and the connection closes. Flush backpressure bounds memory: while
/// the client does not read, this handler does not read either.
/// </summary>
internal sealed class EchoConnectionHandler : ConnectionHandler
{
    /// <summary>
    /// The most copied to the output per flush. What the client sends while it does not read then waits in the
    /// transport's input buffer, which stops reading the socket at its limit, instead of all of it being copied into the
    /// output first (a client that sent and never read held the input buffer twice over).
    /// </summary>
    internal const int MaxBytesPerFlush = 16 * 1024;

    private readonly BannerTemplate? _banner;

    public EchoConnectionHandler(ListenerDefinition listener) => _banner = listener.Banner is null ? null : BannerTemplate.Parse(listener.Banner, listener.Name);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;

        // A close request cancels the pending read or flush once, rather than each read and flush registering with
        // the token: less work per message, though no difference showed above the benchmark's noise
        // (docs/performance.md, What was tried).
        using var cancelOnClose = closing.UnsafeRegister(static state =>
        {
            var transport = (IDuplexPipe)state!;
            transport.Input.CancelPendingRead();
            transport.Output.CancelPendingFlush();
        }, connection.Transport);

        if (_banner is not null && await output.WriteAsync(_banner.Render(connection.LocalEndPoint, connection.RemoteEndPoint)) is { IsCompleted: true } or { IsCanceled: true })
        {
            return;
        }

        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            var chunk = buffer.Length > MaxBytesPerFlush ? buffer.Slice(0, MaxBytesPerFlush) : buffer;
            try
            {
                foreach (var segment in chunk)
                {
                    output.Write(segment.Span);
                }
            }
            finally
            {
                // The rest, if any, comes back at once with the next read.
                input.AdvanceTo(chunk.End);
            }

            if (!chunk.IsEmpty && await output.FlushAsync() is { IsCompleted: true } or { IsCanceled: true })
            {
                break;
            }

            // Canceled: shutdown, idle timeout or another close request; returning lets Kestrel close the connection.
            if ((result.IsCompleted && chunk.Length == buffer.Length) || result.IsCanceled)
            {
                break;
            }
        }
    }
}
