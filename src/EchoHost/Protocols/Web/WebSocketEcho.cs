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
        var socket = await web.AcceptWebSocketAsync(context, Subprotocols, requireSubprotocol: false);
        if (socket is null)
        {
            return;
        }

        // Server shutdown, the idle timeout and the like ask for a close: a close frame goes out (between two echoes,
        // never inside one), and the loop ends when the client answers it. Never by cancelling a receive: that aborts
        // the WebSocket without a close frame. Every send, close frames included, holds `sending`, so two never overlap;
        // not disposed, since a close request may still be waiting for it when the loop ends.
        var sending = new SemaphoreSlim(1, 1);
        var session = context.Features.Get<ConnectionSession>();
        using var onClose = (session?.ConnectionClosedRequested ?? CancellationToken.None).Register(() =>
        {
            var (status, reason) = WebListener.CloseFrameFor(session!.CloseRequestReason);
            _ = WebListener.CloseOutputAsync(socket, sending, status, reason);
        });
        var aborted = context.RequestAborted;
        async Task CloseAsync(WebSocketCloseStatus status, string reason)
        {
            await sending.WaitAsync(aborted);
            try
            {
                await WebListener.CloseAsync(socket, status, reason, aborted);
            }
            finally
            {
                sending.Release();
            }
        }

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
                    received = await socket.ReceiveAsync(buffer.AsMemory(length, room), aborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                        return;
                    }

                    length += received.Count;
                    if (length > limit)
                    {
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message over {limit} bytes, the limit (MaxMessageBytes)");
                        return;
                    }
                }
                while (!received.EndOfMessage);

                await sending.WaitAsync(aborted);
                try
                {
                    if (socket.State != WebSocketState.Open)
                    {
                        continue;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, length), received.MessageType, endOfMessage: true, aborted);
                }
                finally
                {
                    sending.Release();
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (WebSocketException)
        {
            // A protocol error (bad UTF-8, a bad frame), a missed keepalive or a reset: the WebSocket layer has sent its
            // close frame if it could and let go of the connection.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            WebListener.Release(socket);
        }
    }
}
