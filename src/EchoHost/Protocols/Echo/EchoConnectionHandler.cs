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
    private readonly BannerTemplate? _banner;

    public EchoConnectionHandler(ListenerDefinition listener) => _banner = listener.BannerTemplate;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;

        // A close request cancels the pending read or flush once, rather than each read and flush registering with
        // the token: less work per message, though no difference showed above the benchmark's noise (README,
        // Performance, What was tried).
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
            try
            {
                foreach (var segment in buffer)
                {
                    output.Write(segment.Span);
                }
            }
            finally
            {
                input.AdvanceTo(buffer.End);
            }

            if (!buffer.IsEmpty && await output.FlushAsync() is { IsCompleted: true } or { IsCanceled: true })
            {
                break;
            }

            // Canceled: shutdown, idle timeout or another close request; returning lets Kestrel close the connection.
            if (result.IsCompleted || result.IsCanceled)
            {
                break;
            }
        }
    }
}
