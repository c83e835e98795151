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

        try
        {
            if (_banner is not null && (await output.WriteAsync(_banner.Render(connection.LocalEndPoint, connection.RemoteEndPoint), closing)).IsCompleted)
            {
                return;
            }

            while (true)
            {
                var result = await input.ReadAsync(closing);
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

                if (!buffer.IsEmpty && (await output.FlushAsync(closing)).IsCompleted)
                {
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            // Shutdown or idle timeout: returning lets Kestrel close the connection.
        }
    }
}
