using System.Buffers;
using System.Net.WebSockets;

namespace EchoHost.Protocols.Web;

/// <summary>
/// A line protocol's connection over a WebSocket: <see cref="Transport"/> is the duplex pipe a line handler (chat, IRC)
/// reads and writes as it would a TCP connection. Each message received becomes its bytes and a line end in the
/// handler's input (a message that already ends with CR or LF gets none more); the handler's output is cut at line ends
/// and each line, without its CR LF, goes out as one message. Both pipes are bounded: a client that sends faster than
/// the handler reads waits (TCP backpressure), and a client that stops reading makes the handler's flushes wait, which
/// is what its slow-reader policy watches. A message is streamed, never held whole: a line over the handler's limit is
/// the handler's decoder's to report and discard, as on TCP.
/// </summary>
internal sealed class WebSocketLineBridge
{
    private const byte Cr = (byte)'\r', Lf = (byte)'\n';

    // What may wait in each direction between the socket and the handler; the chat's own queue comes on top.
    private const int PauseBytes = 64 * 1024;

    private static readonly PipeOptions _pipeOptions = new(
        pauseWriterThreshold: PauseBytes, resumeWriterThreshold: PauseBytes / 2, useSynchronizationContext: false);

    private readonly WebSocket _socket;
    private readonly WebSocketMessageType _outgoing;
    private readonly bool _acceptBinary;
    private readonly Pipe _input = new(_pipeOptions);
    private readonly Pipe _output = new(_pipeOptions);

    /// <param name="socket">An open WebSocket; the bridge is its only sender and (until it closes) its only receiver.</param>
    /// <param name="outgoing">The message type each line goes out as.</param>
    /// <param name="acceptBinary">Whether binary messages carry lines too; when not, one ends the input (<see cref="WebSocketInputEnd.BinaryRefused"/>).</param>
    public WebSocketLineBridge(WebSocket socket, WebSocketMessageType outgoing, bool acceptBinary)
    {
        _socket = socket;
        _outgoing = outgoing;
        _acceptBinary = acceptBinary;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
    }

    /// <summary>The handler's side: lines from the client to read, lines for the client to write.</summary>
    public IDuplexPipe Transport { get; }

    /// <summary>
    /// Receives messages into the handler's input until the client closes, sends a message refused, the socket fails
    /// (the WebSocket layer closes with 1007 for bad UTF-8 in a text message) or <paramref name="cancellationToken"/>
    /// (which aborts the socket); then the handler's input ends. Once the handler has stopped reading, messages are
    /// received and dropped, so the client's close frame is still seen.
    /// </summary>
    public async Task<WebSocketInputEnd> ReceiveAsync(CancellationToken cancellationToken)
    {
        var writer = _input.Writer;
        var reading = true;
        byte[]? discard = null;
        try
        {
            // The last byte of the message so far; 0 before its first.
            byte last = 0;
            while (true)
            {
                // A receive with no buffer first, which waits for the next frame: an idle client holds no pipe segment.
                var peeked = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                var memory = peeked.MessageType == WebSocketMessageType.Close || peeked.EndOfMessage ? Memory<byte>.Empty
                    : reading ? writer.GetMemory() : discard ??= new byte[1024];
                var received = memory.IsEmpty ? peeked : await _socket.ReceiveAsync(memory, cancellationToken);
                switch (received.MessageType)
                {
                    case WebSocketMessageType.Close:
                        return WebSocketInputEnd.ClientClosed;
                    case WebSocketMessageType.Binary when !_acceptBinary:
                        return WebSocketInputEnd.BinaryRefused;
                }

                if (!reading)
                {
                    continue;
                }

                if (received.Count > 0)
                {
                    last = memory.Span[received.Count - 1];
                    writer.Advance(received.Count);
                }

                if (received.EndOfMessage)
                {
                    // One message is one line: its end is the line's end, unless the client sent one (IRC's CR LF).
                    if (last is not (Lf or Cr))
                    {
                        writer.Write([Lf]);
                    }

                    last = 0;
                }

                var flushed = await writer.FlushAsync(cancellationToken);
                reading = !flushed.IsCompleted;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            return cancellationToken.IsCancellationRequested ? WebSocketInputEnd.Stopped : WebSocketInputEnd.Failed;
        }
        finally
        {
            await writer.CompleteAsync();
        }
    }

    /// <summary>
    /// Sends what the handler writes, one message per line, until the handler completes its output (the rest is sent,
    /// a last line without an end included) or the socket fails; then the handler's writes end (its flushes complete).
    /// </summary>
    public async Task SendAsync(CancellationToken cancellationToken)
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                try
                {
                    while (buffer.PositionOf(Lf) is { } end)
                    {
                        await SendLineAsync(buffer.Slice(0, end), cancellationToken);
                        buffer = buffer.Slice(buffer.GetPosition(1, end));
                    }

                    if (result.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            await SendLineAsync(buffer, cancellationToken);
                        }

                        return;
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone (or the socket was aborted): the handler's writes end below.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    /// <summary>One line, its CR dropped, as one message (in one frame per segment of the buffer).</summary>
    private async ValueTask SendLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        if (!line.IsEmpty && line.Slice(line.Length - 1).FirstSpan[0] == Cr)
        {
            line = line.Slice(0, line.Length - 1);
        }

        if (line.IsSingleSegment)
        {
            await _socket.SendAsync(line.First, _outgoing, endOfMessage: true, cancellationToken);
            return;
        }

        // A line the pipe holds in pieces goes out as one message of several frames.
        var position = line.Start;
        line.TryGet(ref position, out var segment);
        while (true)
        {
            var more = line.TryGet(ref position, out var next);
            await _socket.SendAsync(segment, _outgoing, endOfMessage: !more, cancellationToken);
            if (!more)
            {
                return;
            }

            segment = next;
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>How the client's side of a <see cref="WebSocketLineBridge"/> ended.</summary>
internal enum WebSocketInputEnd
{
    /// <summary>The client sent its close frame.</summary>
    ClientClosed,
    /// <summary>The client sent a binary message where lines come as text only.</summary>
    BinaryRefused,
    /// <summary>The socket failed: a protocol error (the WebSocket layer sent its close), a missed keepalive, a reset.</summary>
    Failed,
    /// <summary>The server stopped receiving.</summary>
    Stopped,
}
