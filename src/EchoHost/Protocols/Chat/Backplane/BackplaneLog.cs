namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// What the backplane logs, in one place. Written through the <see cref="PostgresChatBackplane"/> logger, so every
/// line keeps that category; the method names keep the event ids the source generator derives from them.
/// </summary>
internal static partial class BackplaneLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: connected to PostgreSQL {Server} as instance {Instance} (schema version {SchemaVersion}); rooms, nicks and history are shared with every instance on it")]
    public static partial void LogConnected(this ILogger logger, string server, Guid instance, int schemaVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: PostgreSQL {Server} cannot be reached ({Error}); chat continues on this instance only and reconnects by itself")]
    public static partial void LogUnreachable(this ILogger logger, string server, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: reconnecting to PostgreSQL {Server} failed ({Error}); trying again")]
    public static partial void LogRetryFailed(this ILogger logger, string server, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: PostgreSQL {Server} is reachable again after {Outage}; chat spans every instance again")]
    public static partial void LogReconnected(this ILogger logger, string server, TimeSpan outage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: PostgreSQL {Server} refused a statement ({Error}); those events stay on this instance")]
    public static partial void LogRefused(this ILogger logger, string server, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: PostgreSQL {Server} refused a statement again ({Error})")]
    public static partial void LogRefusedAgain(this ILogger logger, string server, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat backplane: {Queued} events are waiting for PostgreSQL {Server}; refusing lines ({Why}; at most {MaxQueuedPerSender} per sender, {MaxQueued} events or {MaxQueuedMiB} MiB in all): they reach only this instance, and their senders are told")]
    public static partial void LogRefusing(this ILogger logger, string server, int queued, string why, int maxQueuedPerSender, int maxQueued, long maxQueuedMiB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat backplane: caught up with PostgreSQL {Server}; {Refused} events from {Senders} senders were refused meanwhile and reached only this instance")]
    public static partial void LogCaughtUp(this ILogger logger, string server, int refused, int senders);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: registered {Users} users of this instance ({Renamed} renamed: their nick was taken meanwhile)")]
    public static partial void LogRegistered(this ILogger logger, int users, int renamed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat backplane: could not remove this instance from PostgreSQL {Server} at shutdown ({Error}); it expires by itself")]
    public static partial void LogLeaveFailed(this ILogger logger, string server, string error);
}
