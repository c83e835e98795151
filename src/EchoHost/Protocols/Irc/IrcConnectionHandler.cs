using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocols.Irc;

/// <summary>
/// IRC on a connection: framing, registration and the read loop. A registered client joins the same
/// <see cref="ChatServer"/> as line users, rendered by an <see cref="IrcRenderer"/>; its lines are limited as theirs
/// are (length, UTF-8, flood control with one notice per burst of drops, a bounded queue that cuts a slow reader).
/// An idle client is sent PING once it has said nothing for half the listener's idle timeout, and dropped once it has
/// said nothing for all of it; a client that never registers is dropped after <see cref="RegistrationTimeout"/>.
/// </summary>
internal sealed partial class IrcConnectionHandler(
    ChatServer server,
    ListenerDefinition listener,
    ListenerMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : ConnectionHandler
{
    /// <summary>How long a client may take to register, at most (a shorter idle timeout is shorter still).</summary>
    public static readonly TimeSpan RegistrationTimeout = TimeSpan.FromSeconds(60);

    private readonly ChatMetrics _observer = new(metrics);
    private readonly ChatActivityLog _activity = new(listener.Name, loggers.CreateLogger(ChatActivityLog.Category));
    private readonly IrcListenerOptions _own = listener.Own<IrcListenerOptions>();
    private readonly ILogger _logger = loggers.CreateLogger<IrcConnectionHandler>();
    private readonly IrcRenderers _renderers = NewRenderers(listener.Own<IrcListenerOptions>().ServerName);
    private IrcCommands Commands => field ??= new IrcCommands(server, _renderers.Welcome);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var options = server.Options;
        var (close, details, closing, remote) = connection.LineFeatures();
        var (outbox, writer) = connection.StartOutbox(options.MaxQueuedBytes, close);
        var client = new IrcClient(connection.ConnectionId, outbox, _renderers.Lines, remote, time.GetTimestamp());

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(closing);
        var keepAlive = KeepAliveAsync(client, close, stop.Token);
        var end = LineEnd.Cancelled;
        try
        {
            end = await ReadLinesAsync(client, connection.Transport.Input, options, details, close, closing);
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync();
            await keepAlive;
            var why = Farewell(end, client, close, closing);
            if (client.User is { } user)
            {
                if (outbox.HasOverflowed)
                {
                    var (queued, refused) = outbox.AtOverflow;
                    LogSlowReader(listener.Name, user.Nick, queued, refused, options.MaxQueuedBytes);
                    _observer.SlowReaderDisconnected();
                    _activity.Departed(user, server.Disconnect(user, why, holdNick: true), why, options.SlowReaderNickHold);
                }
                else
                {
                    _activity.Departed(user, server.Disconnect(user, why, announce: why != "server shutdown"), why, options.SlowReaderNickHold);
                }
            }

            outbox.Complete(IrcLines.Encode($"ERROR :Closing link: {client.Me} ({why})"));
            close.CloseAfterLastLines(end);

            await LineConnection.WhenWriterEndsAsync(writer);
        }
    }

    private async Task<LineEnd> ReadLinesAsync(
        IrcClient client, PipeReader input, ChatOptions options, IConnectionDetailsFeature? details, IConnectionCloseFeature? close, CancellationToken cancellationToken)
    {
        var decoder = new IrcLineDecoder(_own.MaxLineBytes);
        var flood = new LineFlood(options, time, _observer);
        var lines = new List<ChatInput>();
        while (true)
        {
            var ended = await input.ReadLinesAsync(decoder, lines, cancellationToken);
            foreach (var line in lines)
            {
                client.LastInput = time.GetTimestamp();
                var message = line.Kind == ChatInputKind.Line ? IrcMessage.Parse(line.Text!) : null;
                // Leaving costs no token: a flooded user can always quit.
                if (message?.Command == "QUIT")
                {
                    client.QuitMessage = message.Count > 0 ? IrcText.ToChat(message[0]).Trim() : "";
                    return LineEnd.Quit;
                }

                if (!flood.TryTake(out var firstDrop))
                {
                    if (firstDrop)
                    {
                        client.Notice("Flood control: slow down; lines are being dropped.");
                        LogFlood(listener.Name, client.Me, options.FloodBurst, options.FloodLinesPerSecond);
                    }

                    continue;
                }

                if (await HandleAsync(client, line, message) == IrcStep.Quit)
                {
                    return LineEnd.Quit;
                }

                if (client.User is null && close?.CloseRequestReason is not null)
                {
                    return LineEnd.Cancelled;
                }
            }

            lines.Clear();
            ShowDetails(details, client);
            if (ended)
            {
                return LineEnd.InputEnded;
            }
        }
    }

    private async ValueTask<IrcStep> HandleAsync(IrcClient client, ChatInput line, IrcMessage? message)
    {
        switch (line.Kind)
        {
            case ChatInputKind.TooLong:
                client.Numeric("417", "Input line was too long");
                _observer.LineDropped(ChatLineDropReason.TooLong);
                LogTooLong(listener.Name, client.Me, _own.MaxLineBytes);
                return IrcStep.Continue;
            case ChatInputKind.InvalidUtf8:
                client.Notice("Line is not valid UTF-8; discarded.");
                _observer.LineDropped(ChatLineDropReason.InvalidUtf8);
                LogInvalidUtf8(listener.Name, client.Me);
                return IrcStep.Continue;
        }

        if (message is null)
        {
            return IrcStep.Continue;
        }

        if (client.User is not null)
        {
            return await Commands.RunAsync(client, message);
        }

        var step = IrcRegistration.Handle(server, client, message);
        if (step == IrcStep.Register)
        {
            await RegisterAsync(client);
        }

        // Refused (the chat is full): the client was told, the session ends.
        return client.Refused ? IrcStep.Quit : step;
    }

    /// <summary>The client joins the chat: its welcome burst, #lobby's JOIN, topic and history (from the core), then its names.</summary>
    private async ValueTask RegisterAsync(IrcClient client)
    {
        var requested = client.RequestedNick!;
        if (!IrcRegistration.NickAnswer(server, client, requested))
        {
            client.RequestedNick = null;
            return;
        }

        client.Renderer = _renderers.For(client);
        var user = await server.ConnectAsync(new ChatSession(client.Outbox, client.Renderer, _observer, _activity), client.RemoteEndPoint, nick: requested);
        if (user is null)
        {
            _activity.ServerFull(client.ConnectionId, server.Options.MaxUsers);
            client.Refused = true;
            return;
        }

        client.User = user;
        _activity.Arrived(user.Nick, ChatServer.Lobby, client.RemoteEndPoint ?? "-");
        if (user.Nick != requested)
        {
            client.Notice($"The nick {requested} was taken on another server meanwhile: you are {user.Nick}. /nick changes it.");
        }

        await IrcQueries.NamesAsync(server, client, IrcText.Channel(user.Room!.Name));
    }

    /// <summary>
    /// PING after half the idle timeout of silence from the client; the close after all of it once a PING has gone
    /// unanswered for a check, or when registration takes too long.
    /// </summary>
    private async Task KeepAliveAsync(IrcClient client, IConnectionCloseFeature? close, CancellationToken cancellationToken)
    {
        var idle = listener.IdleTimeout;
        // Checked four times per timeout: the PING goes out well before the pipeline's own idle close (no byte either
        // way for the timeout), and the drop comes at most a quarter late.
        var registration = idle > TimeSpan.Zero ? Min(idle, RegistrationTimeout) : RegistrationTimeout;
        var tick = idle > TimeSpan.Zero ? Min(idle / 4, RegistrationTimeout) : RegistrationTimeout;
        var pingedAt = 0L;
        try
        {
            while (true)
            {
                await Task.Delay(tick, time, cancellationToken);
                if (client.User is null && client.Refused is false && time.GetElapsedTime(client.ConnectedAt) >= registration)
                {
                    client.Timeout = "registration timeout";
                    close?.RequestClose(CloseReason.IdleTimeout);
                    return;
                }

                var quiet = time.GetElapsedTime(client.LastInput);
                // Dropped only after a PING it has had a whole check to answer: a check that comes late (a busy
                // machine) finds the client silent for the whole timeout before any PING, and then pings it first.
                var unanswered = pingedAt > client.LastInput && time.GetElapsedTime(pingedAt) >= tick;
                if (idle > TimeSpan.Zero && quiet >= idle && unanswered)
                {
                    client.Timeout = $"Ping timeout: {(int)quiet.TotalSeconds} seconds";
                    close?.RequestClose(CloseReason.IdleTimeout);
                    return;
                }

                if (idle > TimeSpan.Zero && quiet >= idle / 2)
                {
                    pingedAt = time.GetTimestamp();
                    client.Send($"PING :{client.Lines.ServerName}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Why the session ends, as the room hears it (a QUIT on IRC, "left" for line users).</summary>
    private static string Farewell(LineEnd end, IrcClient client, IConnectionCloseFeature? close, CancellationToken closing) =>
        client.Refused ? "server full"
        : end == LineEnd.Quit ? (string.IsNullOrEmpty(client.QuitMessage) ? "quit" : $"quit: {client.QuitMessage}")
        : close?.CloseRequestReason switch
        {
            CloseReason.SlowReader => "too slow to read",
            CloseReason.IdleTimeout => client.Timeout ?? "idle",
            CloseReason.Shutdown => "server shutdown",
            _ when closing.IsCancellationRequested => "server shutdown",
            _ => "connection closed",
        };

    private static void ShowDetails(IConnectionDetailsFeature? details, IrcClient client)
    {
        if (details is not null && client.User is { } user)
        {
            details.SetDetail("nick", user.Nick);
            details.SetDetail("room", user.Room?.Name);
        }
    }

    private static IrcRenderers NewRenderers(string serverName)
    {
        var lines = new IrcLines(serverName);
        var version = typeof(IrcConnectionHandler).Assembly.GetName().Version?.ToString(3) ?? "0";
        return new IrcRenderers(lines, new IrcWelcome(lines, $"EchoHost-{version}"));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} irc: flood control dropping lines from {Nick} (FloodBurst = {Burst}, FloodLinesPerSecond = {PerSecond})")]
    private partial void LogFlood(string listener, string nick, int burst, double perSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} irc: discarded a line from {Nick} longer than MaxLineBytes = {MaxLineBytes}")]
    private partial void LogTooLong(string listener, string nick, int maxLineBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} irc: discarded a line from {Nick} that is not valid UTF-8")]
    private partial void LogInvalidUtf8(string listener, string nick);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Listener} irc: {Nick} disconnected as a slow reader ({QueuedBytes} bytes queued and a {LineBytes}-byte line that did not fit, MaxQueuedBytes = {MaxQueuedBytes})")]
    private partial void LogSlowReader(string listener, string nick, long queuedBytes, int lineBytes, int maxQueuedBytes);
}
