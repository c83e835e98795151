namespace EchoHost.Configuration;

/// <summary>The protocols a listener can speak, as written in <c>Protocol</c>.</summary>
public enum ListenerProtocol
{
    Echo,
    Chat,
}

internal static class ListenerProtocols
{
    public static bool TryParse(string? text, out ListenerProtocol protocol)
    {
        protocol = default;
        return !string.IsNullOrWhiteSpace(text)
            && !char.IsDigit(text.Trim()[0])
            && Enum.TryParse(text.Trim(), ignoreCase: true, out protocol)
            && Enum.IsDefined(protocol);
    }

    public static string Names => string.Join(", ", Enum.GetNames<ListenerProtocol>());

    /// <summary>The idle timeout a listener of this protocol gets when it does not set one.</summary>
    public static TimeSpan DefaultIdleTimeout(ListenerProtocol protocol, EchoHostOptions options) => protocol switch
    {
        ListenerProtocol.Chat => options.Chat.IdleTimeout,
        _ => TimeSpan.FromMinutes(5),
    };
}
