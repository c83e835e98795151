using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// The chat on a connection: framing and the read loop only. Decodes lines (nc or telnet), applies flood control and
/// hands each line to the shared <see cref="ChatServer"/>; the chat's events come back rendered as lines
/// (<see cref="ChatLineRenderer"/>). Everything sent to the user goes through its
/// <see cref="ChatOutbox"/> and single writer loop, so a slow reader only ever slows itself; a reader too slow for
/// its queue is closed through the connection's close path, like every other close. However the session ends, its
/// last line is <c>%end%</c> (<see cref="ChatMessages.EndOfSession"/>), right after the goodbye or notice.
/// </summary>
internal sealed partial class ChatConnectionHandler(
    ChatServer server,
    ChatLineRenderer renderer,
    ListenerDefinition listener,
    ListenerMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : ConnectionHandler
{
    private const string ServerShutdown = "server shutdown";

    private readonly ChatMetrics _observer = new(metrics);
    private readonly ChatActivityLog _activity = new(listener.Name, loggers.CreateLogger(ChatActivityLog.Category));
    private readonly ILogger _logger = loggers.CreateLogger<ChatConnectionHandler>();
    private readonly GreetingMode _greeting = listener.Own<ChatListenerOptions>().Greeting;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var options = server.Options;
        var (close, details, closing, remote) = connection.LineFeatures();
        var (outbox, writer) = connection.StartOutbox(options.MaxQueuedBytes, close);

        // The greeting (or the refusal and the end marker) leaves in one write.
        outbox.Hold();
        var user = await server.ConnectAsync(
            new ChatSession(outbox, renderer, _observer, _activity), remote, welcomeOnly: _greeting == GreetingMode.Minimal);
        if (user is null)
        {
            _activity.ServerFull(connection.ConnectionId, options.MaxUsers);
            // Server full: the notice gets the close grace to reach the client, like every last line.
            outbox.Complete(LastLines(null));
            close?.RequestClose(CloseReason.ServerClosed);
            await LineConnection.WhenWriterEndsAsync(writer);
            return;
        }

        outbox.Release();
        _activity.Arrived(user.Nick, ChatServer.Lobby, remote ?? "-");
        var end = LineEnd.Cancelled;
        try
        {
            end = await ReadLinesAsync(user, outbox, connection.Transport.Input, options, details, closing);
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
        }
        finally
        {
            if (outbox.HasOverflowed)
            {
                var (queued, refused) = outbox.AtOverflow;
                LogSlowReader(listener.Name, user.Nick, queued, refused, options.MaxQueuedBytes);
                _observer.SlowReaderDisconnected();
                // Others can cause this cut (a flood in the user's room): the nick is held so they cannot take it next.
                _activity.Departed(user, server.Disconnect(user, "too slow to read", holdNick: true), "too slow to read", options.SlowReaderNickHold);
                // Best effort, never waiting for the stalled reader: the notice and the end marker go behind whatever the
                // client did not read, past the queue's limit; the close grace ends it.
                outbox.Complete(LastLines(ChatMessages.SlowReader));
            }
            else
            {
                var (why, notice) = end == LineEnd.Quit ? ("quit", null) : FarewellFor(close, closing);
                _activity.Departed(user, server.Disconnect(user, why, announce: why != ServerShutdown), why, options.SlowReaderNickHold);
                outbox.Complete(LastLines(notice));
            }

            close.CloseAfterLastLines(end);

            await LineConnection.WhenWriterEndsAsync(writer);
        }
    }

    /// <summary>Reads until the client leaves or closes, or the connection is asked to close.</summary>
    private async Task<LineEnd> ReadLinesAsync(
        ChatUser user, ChatOutbox outbox, PipeReader input, ChatOptions options, IConnectionDetailsFeature? details, CancellationToken cancellationToken)
    {
        var decoder = new ChatLineDecoder(options.MaxLineBytes);
        var flood = new LineFlood(options, time, _observer);
        var lines = new List<ChatInput>();
        var shown = ShowDetails(details, user, default);
        while (true)
        {
            var ended = await input.ReadLinesAsync(decoder, lines, cancellationToken);
            foreach (var line in lines)
            {
                // Leaving costs no token: a flooded user can always quit.
                if (line.Kind == ChatInputKind.Line && ChatCommands.IsQuit(line.Text!))
                {
                    // The goodbye waits for the end marker: both leave in one write, so a client that reads one chunk
                    // (the tutorials' recv(1024)) sees the end with the goodbye.
                    outbox.Hold();
                    await server.HandleAsync(user, line.Text!);
                    return LineEnd.Quit;
                }

                // Every other line costs a token, commands and bad lines included; one notice per burst of drops.
                if (!flood.TryTake(out var firstDrop))
                {
                    if (firstDrop)
                    {
                        Send(user, ChatMessages.Flood);
                        LogFlood(listener.Name, user.Nick, options.FloodBurst, options.FloodLinesPerSecond);
                    }

                    continue;
                }

                await HandleAsync(user, line, options);
            }

            lines.Clear();
            shown = ShowDetails(details, user, shown);
            if (ended)
            {
                return LineEnd.InputEnded;
            }
        }
    }

    private async ValueTask HandleAsync(ChatUser user, ChatInput line, ChatOptions options)
    {
        switch (line.Kind)
        {
            case ChatInputKind.TooLong:
                Send(user, ChatMessages.TooLong(options.MaxLineBytes));
                _observer.LineDropped(ChatLineDropReason.TooLong);
                LogTooLong(listener.Name, user.Nick, options.MaxLineBytes);
                break;
            case ChatInputKind.InvalidUtf8:
                Send(user, ChatMessages.InvalidUtf8);
                _observer.LineDropped(ChatLineDropReason.InvalidUtf8);
                LogInvalidUtf8(listener.Name, user.Nick);
                break;
            default:
                // Waited for: with a backplane a command may ask the database, and the user's next line must come after.
                await server.HandleAsync(user, line.Text!);
                break;
        }
    }

    /// <summary>Shows the user's nick and room in <c>/connections</c> when they changed since <paramref name="shown"/>.</summary>
    private static (string? Nick, string? Room) ShowDetails(IConnectionDetailsFeature? details, ChatUser user, (string? Nick, string? Room) shown)
    {
        // Only this connection's own commands change its nick and room, so reading them here, between lines, is exact.
        var now = (user.Nick, user.Room?.Name);
        if (details is not null && !ReferenceEquals(now.Nick, shown.Nick))
        {
            details.SetDetail("nick", now.Nick);
        }

        if (details is not null && !ReferenceEquals(now.Name, shown.Room))
        {
            details.SetDetail("room", now.Name);
        }

        return now;
    }

    /// <summary>Why the session ends, as the room hears it, and the notice that tells the user, if any.</summary>
    private (string Why, string? Notice) FarewellFor(IConnectionCloseFeature? close, CancellationToken closing) =>
        close?.CloseRequestReason switch
        {
            CloseReason.IdleTimeout => ("idle", ChatMessages.IdleTimeout(listener.IdleTimeout)),
            CloseReason.Shutdown => (ServerShutdown, ChatMessages.ShuttingDown),
            _ when closing.IsCancellationRequested => (ServerShutdown, ChatMessages.ShuttingDown),
            _ => ("connection closed", null),
        };

    /// <summary>The session's last lines, in one piece: the notice if there is one, then the end marker.</summary>
    private static byte[] LastLines(string? notice) =>
        ChatMessages.Encode(notice is null ? ChatMessages.EndOfSession : $"{notice}\r\n{ChatMessages.EndOfSession}");

    /// <summary>A notice of the line protocol itself (not a chat event): straight into the user's outbox.</summary>
    private static void Send(ChatUser user, string line) => user.Outbox.TryEnqueue(ChatMessages.Encode(line));

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} disconnected as a slow reader ({QueuedBytes} bytes queued and a {LineBytes}-byte line that did not fit, MaxQueuedBytes = {MaxQueuedBytes})")]
    private partial void LogSlowReader(string listener, string nick, long queuedBytes, int lineBytes, int maxQueuedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: flood control dropping lines from {Nick} (FloodBurst = {Burst}, FloodLinesPerSecond = {PerSecond})")]
    private partial void LogFlood(string listener, string nick, int burst, double perSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: discarded a line from {Nick} longer than MaxLineBytes = {MaxLineBytes}")]
    private partial void LogTooLong(string listener, string nick, int maxLineBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: discarded a line from {Nick} that is not valid UTF-8")]
    private partial void LogInvalidUtf8(string listener, string nick);
}
