namespace EchoHost.Protocols.Chat;

internal enum ChatInputKind
{
    /// <summary>A complete line of valid UTF-8: control characters before its text dropped, others made harmless.</summary>
    Line,
    /// <summary>A line went past the limit; it is being discarded up to its end. Reported once per line.</summary>
    TooLong,
    /// <summary>A complete line that is not valid UTF-8; dropped.</summary>
    InvalidUtf8,
}

internal readonly record struct ChatInput(ChatInputKind Kind, string? Text = null)
{
    public static ChatInput Line(string text) => new(ChatInputKind.Line, text);

    public static readonly ChatInput TooLong = new(ChatInputKind.TooLong);

    public static readonly ChatInput InvalidUtf8 = new(ChatInputKind.InvalidUtf8);
}
