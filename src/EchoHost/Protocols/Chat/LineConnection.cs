using EchoHost.Pipeline;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocols.Chat;

/// <summary>The steps every line-based handler (chat, IRC) takes the same way on its connection.</summary>
internal static class LineConnection
{
    /// <summary>
    /// The features a line handler uses, and the client's address as the pipeline saw it (after the PROXY protocol):
    /// whose address may take back a held nick.
    /// </summary>
    public static (IConnectionCloseFeature? Close, IConnectionDetailsFeature? Details, CancellationToken Closing, string? Remote) LineFeatures(
        this ConnectionContext connection) =>
        (connection.Features.Get<IConnectionCloseFeature>(),
            connection.Features.Get<IConnectionDetailsFeature>(),
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default,
            (connection.Features.Get<ConnectionSession>()?.RemoteEndPoint ?? connection.RemoteEndPoint)?.ToString());

    /// <summary>
    /// The connection's outbox and its single writer loop: everything sent to the user goes through it, so a slow
    /// reader only ever slows itself; one too slow for its queue is closed through the connection's close path.
    /// </summary>
    public static (ChatOutbox Outbox, Task Writer) StartOutbox(this ConnectionContext connection, int maxQueuedBytes, IConnectionCloseFeature? close)
    {
        var outbox = new ChatOutbox(maxQueuedBytes);
        outbox.Overflowed += () => close?.RequestClose(CloseReason.SlowReader);
        return (outbox, outbox.RunWriterAsync(connection.Transport.Output));
    }

    /// <summary>
    /// One read: decodes whatever came into <paramref name="lines"/> (and the last line at the end of input) and
    /// advances past all of it. Returns whether the input has ended.
    /// </summary>
    public static async ValueTask<bool> ReadLinesAsync(
        this PipeReader input, ILineDecoder decoder, List<ChatInput> lines, CancellationToken cancellationToken)
    {
        var result = await input.ReadAsync(cancellationToken);
        var buffer = result.Buffer;
        try
        {
            foreach (var segment in buffer)
            {
                decoder.Decode(segment.Span, lines);
            }

            if (result.IsCompleted)
            {
                decoder.Complete(lines);
            }
        }
        finally
        {
            input.AdvanceTo(buffer.End);
        }

        return result.IsCompleted;
    }

    /// <summary>
    /// Once the last lines are queued: they get the close grace to reach the client, never more, so a peer that stopped
    /// reading cannot keep the session (or its slot in the limits) for ever. After <see cref="LineEnd.Cancelled"/> a
    /// close was requested already, or the transport failed.
    /// </summary>
    public static void CloseAfterLastLines(this IConnectionCloseFeature? close, LineEnd end)
    {
        if (end != LineEnd.Cancelled)
        {
            close?.RequestClose(end == LineEnd.Quit ? CloseReason.ServerClosed : CloseReason.ClientClosed);
        }
    }

    /// <summary>The writer ends by draining or because the peer is gone (or was aborted): none of that is an error here.</summary>
    public static async Task WhenWriterEndsAsync(Task writer)
    {
        try
        {
            await writer;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
        }
    }
}

/// <summary>How a line session's read loop ended.</summary>
internal enum LineEnd
{
    /// <summary>The connection was asked to close (shutdown, idle timeout, slow reader).</summary>
    Cancelled,
    Quit,
    /// <summary>The client closed its sending side.</summary>
    InputEnded,
}
