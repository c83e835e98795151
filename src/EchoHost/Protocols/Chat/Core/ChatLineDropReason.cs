namespace EchoHost.Protocols.Chat.Core;

/// <summary>Why the chat dropped a line: the <c>reason</c> tag of <c>echohost.chat.lines.dropped</c>.</summary>
internal enum ChatLineDropReason
{
    /// <summary>The sender exceeded the flood limit.</summary>
    Flood,
    /// <summary>The line was longer than the maximum line length.</summary>
    TooLong,
    /// <summary>The line was not valid UTF-8.</summary>
    InvalidUtf8,
    /// <summary>A private message to a user whose queue is past <c>MaxQueuedPrivateBytes</c>; its sender is told.</summary>
    RecipientBehind,
}

internal static class ChatLineDropReasons
{
    public static string TagValue(this ChatLineDropReason reason) => reason switch
    {
        ChatLineDropReason.Flood => "flood",
        ChatLineDropReason.TooLong => "too_long",
        ChatLineDropReason.InvalidUtf8 => "invalid_utf8",
        ChatLineDropReason.RecipientBehind => "recipient_behind",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
