using System.Buffers;
using System.Net.WebSockets;
using EchoHost.Pipeline;

namespace EchoHost.Protocols.Web;

/// <summary>
/// <c>/ws/echo</c>: every message sent back whole, as it came (text or binary), until the client closes. A message
/// over <see cref="WebListenerOptions.MaxMessageBytes"/> closes with 1009 and a reason; bad UTF-8 in a text message
/// closes with 1007 (the WebSocket layer checks it). A client that stops reading holds its own echo back, as on TCP.
/// </summary>
internal static class WebSocketEcho
{
    public static readonly string[] Subprotocols = [];

    public static async Task HandleAsync(HttpContext context, WebListener web)
    {
        using var socket = await web.AcceptWebSocketAsync(context, Subprotocols, requireSubprotocol: false);
        if (socket is null)
        {
            return;
        }

        // Server shutdown, the idle timeout and a client that went away all end the loop.
        var closing = context.Features.Get<ConnectionSession>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, closing);
        var limit = web.Options.MaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 4096));
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (length == buffer.Length)
                    {
                        // Room for one byte past the limit: enough to know a message is over it.
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    var room = Math.Min(buffer.Length, limit + 1) - length;
                    received = await socket.ReceiveAsync(buffer.AsMemory(length, room), stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await WebListener.CloseAsync(socket, WebSocketCloseStatus.NormalClosure, "bye", stop.Token);
                        return;
                    }

                    length += received.Count;
                    if (length > limit)
                    {
                        await WebListener.CloseAsync(socket, WebSocketCloseStatus.MessageTooBig, $"message over {limit} bytes, the limit (MaxMessageBytes)", stop.Token);
                        return;
                    }
                }
                while (!received.EndOfMessage);

                await socket.SendAsync(buffer.AsMemory(0, length), received.MessageType, endOfMessage: true, stop.Token);
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            await WebListener.CloseAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "server closing the connection", CancellationToken.None);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (WebSocketException)
        {
            // A protocol error (bad UTF-8, a bad frame: the WebSocket layer sent its close), a missed keepalive, or a reset.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
