using EchoHost.Configuration;
using EchoHost.Connections;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Chat;

/// <summary>
/// One chat session: decodes lines (nc or telnet), applies flood control, runs commands against the shared
/// <see cref="ChatServer"/>. Everything sent to the user goes through its <see cref="ChatOutbox"/> and single writer
/// loop, so a slow reader only ever slows itself.
/// </summary>
internal sealed partial class ChatConnectionHandler(
    ChatServer server,
    ListenerDefinition listener,
    EchoHostMetrics echoHostMetrics,
    TimeProvider time,
    ILogger<ChatConnectionHandler> logger) : ConnectionHandler
{
    private readonly ListenerMetrics _metrics = echoHostMetrics.ForListener(listener.Name, listener.ProtocolName);

    /// <summary>How long the last lines (goodbye, shutdown notice) may take to reach a client: the shared close grace.</summary>
    private static readonly TimeSpan FinalFlushGrace = ConnectionSession.CloseGrace;

    private const string ServerShutdown = "server shutdown";

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var options = server.Options;
        var session = connection.Features.Get<ConnectionSession>();
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;

        // Not disposed: the overflow callback may still run on the thread pool after this method returns.
        var stopReading = CancellationTokenSource.CreateLinkedTokenSource(closing);
        var stopWriting = new CancellationTokenSource();
        var outbox = new ChatOutbox(options.MaxQueuedBytes);
        outbox.Overflowed += () =>
        {
            // Through the session, so the disconnect line says why and the shared grace-then-abort applies.
            session?.RequestClose(CloseReason.SlowReader);
            stopReading.Cancel();
            stopWriting.Cancel();
        };
        var writer = outbox.RunWriterAsync(output, stopWriting.Token);

        var user = server.Connect(connection.ConnectionId, listener.Name, outbox, _metrics, session);
        if (user is null)
        {
            await FinishAsync(outbox, writer, stopWriting);
            return;
        }

        var quit = false;
        try
        {
            quit = await ReadLinesAsync(user, input, options, stopReading.Token);
        }
        catch (OperationCanceledException) when (stopReading.IsCancellationRequested)
        {
        }
        finally
        {
            if (outbox.HasOverflowed)
            {
                LogSlowReader(listener.Name, user.Nick, outbox.HighWaterBytes, options.MaxQueuedBytes);
                _metrics.ChatSlowReaderDisconnected();
                server.Disconnect(user, "too slow to read");
                await SendSlowReaderNoticeAndAbortAsync(connection, writer);
            }
            else
            {
                var why = quit ? "quit" : FarewellFor(user, session, closing);
                server.Disconnect(user, why, announce: why != ServerShutdown);
                await FinishAsync(outbox, writer, stopWriting);
            }
        }
    }

    /// <summary>Reads until the client leaves or closes. Returns true when the user quit with a command.</summary>
    private async Task<bool> ReadLinesAsync(ChatUser user, PipeReader input, ChatOptions options, CancellationToken cancellationToken)
    {
        var decoder = new ChatLineDecoder(options.MaxLineBytes);
        var flood = new TokenBucket(options.FloodBurst, options.FloodLinesPerSecond, time);
        var floodNoticeSent = false;
        var lines = new List<ChatInput>();
        while (true)
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

            foreach (var line in lines)
            {
                var command = line.Kind == ChatInputKind.Line ? ChatCommand.Parse(line.Text!) : default;
                if (command.Kind == ChatCommandKind.Quit)
                {
                    user.Send(ChatMessages.Goodbye(user.Nick));
                    return true;
                }

                // Every line costs a token, commands and bad lines included; one notice per burst of drops.
                if (!flood.TryTake())
                {
                    _metrics.ChatLineDropped(ChatLineDropReason.Flood);
                    if (!floodNoticeSent)
                    {
                        floodNoticeSent = true;
                        user.Send(ChatMessages.Flood);
                        LogFlood(listener.Name, user.Nick, options.FloodBurst, options.FloodLinesPerSecond);
                    }

                    continue;
                }

                floodNoticeSent = false;
                Handle(user, line, command, options);
            }

            lines.Clear();
            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    private void Handle(ChatUser user, ChatInput line, ChatCommand command, ChatOptions options)
    {
        switch (line.Kind)
        {
            case ChatInputKind.TooLong:
                user.Send(ChatMessages.TooLong(options.MaxLineBytes));
                _metrics.ChatLineDropped(ChatLineDropReason.TooLong);
                LogTooLong(listener.Name, user.Nick, options.MaxLineBytes);
                return;
            case ChatInputKind.InvalidUtf8:
                user.Send(ChatMessages.InvalidUtf8);
                _metrics.ChatLineDropped(ChatLineDropReason.InvalidUtf8);
                LogInvalidUtf8(listener.Name, user.Nick);
                return;
        }

        switch (command.Kind)
        {
            case ChatCommandKind.Say when !string.IsNullOrWhiteSpace(command.Argument):
                server.Say(user, command.Argument);
                break;
            case ChatCommandKind.Me:
                server.Act(user, command.Argument);
                break;
            case ChatCommandKind.Nick:
                server.ChangeNick(user, command.Argument);
                break;
            case ChatCommandKind.Join:
                server.Join(user, command.Argument);
                break;
            case ChatCommandKind.Who:
                server.Who(user);
                break;
            case ChatCommandKind.Rooms:
                server.ListRooms(user);
                break;
            case ChatCommandKind.Msg:
                server.PrivateMessage(user, command.Argument, command.Text);
                break;
            case ChatCommandKind.Help:
                foreach (var help in ChatMessages.Help)
                {
                    user.Send(help);
                }

                break;
            case ChatCommandKind.Usage:
                user.Send(ChatMessages.Usage(command.Argument));
                break;
            case ChatCommandKind.Unknown:
                user.Send(ChatMessages.UnknownCommand(command.Argument));
                break;
        }
    }

    /// <summary>Tells the user why the server is closing the session, and returns the reason the room hears.</summary>
    private string FarewellFor(ChatUser user, ConnectionSession? session, CancellationToken closing)
    {
        switch (session?.CloseRequestReason)
        {
            case CloseReason.IdleTimeout:
                user.Send(ChatMessages.IdleTimeout(listener.IdleTimeout));
                return "idle";
            case CloseReason.Shutdown:
                user.Send(ChatMessages.ShuttingDown);
                return ServerShutdown;
        }

        if (closing.IsCancellationRequested)
        {
            user.Send(ChatMessages.ShuttingDown);
            return ServerShutdown;
        }

        return "connection closed";
    }

    /// <summary>Lets the writer send what is queued (the last notices included), but not wait forever on a silent peer.</summary>
    private static async Task FinishAsync(ChatOutbox outbox, Task writer, CancellationTokenSource stopWriting)
    {
        outbox.Complete();
        stopWriting.CancelAfter(FinalFlushGrace);
        await WhenWriterEndsAsync(writer);
    }

    /// <summary>The writer ends by draining, by cancellation, or because the peer is gone: none of that is an error here.</summary>
    private static async Task WhenWriterEndsAsync(Task writer)
    {
        try
        {
            await writer;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
        }
    }

    /// <summary>Best effort: the notice goes behind whatever the client did not read, then the connection is dropped.</summary>
    private static async Task SendSlowReaderNoticeAndAbortAsync(ConnectionContext connection, Task writer)
    {
        await WhenWriterEndsAsync(writer);

        using var grace = new CancellationTokenSource(FinalFlushGrace);
        try
        {
            await connection.Transport.Output.WriteAsync(ChatMessages.Encode(ChatMessages.SlowReader), grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
        }

        connection.Abort(new ConnectionAbortedException("Chat client too slow to read."));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: {Nick} disconnected as a slow reader ({QueuedBytes} bytes queued, MaxQueuedBytes = {MaxQueuedBytes})")]
    private partial void LogSlowReader(string listener, string nick, long queuedBytes, int maxQueuedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: flood control dropping lines from {Nick} (FloodBurst = {Burst}, FloodLinesPerSecond = {PerSecond})")]
    private partial void LogFlood(string listener, string nick, int burst, double perSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: discarded a line from {Nick} longer than MaxLineBytes = {MaxLineBytes}")]
    private partial void LogTooLong(string listener, string nick, int maxLineBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} chat: discarded a line from {Nick} that is not valid UTF-8")]
    private partial void LogInvalidUtf8(string listener, string nick);
}
