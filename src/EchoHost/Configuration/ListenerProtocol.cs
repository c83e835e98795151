namespace EchoHost.Configuration;

/// <summary>The protocols a listener can speak, as written in <c>Protocol</c>.</summary>
public enum ListenerProtocol
{
    Echo,
    Chat,
    /// <summary>RFC 862 over UDP: every datagram answered with one identical datagram (Udp/).</summary>
    UdpEcho,
}

/// <summary>What carries a listener's protocol: TCP listeners are Kestrel endpoints, UDP listeners a hosted service.</summary>
public enum ListenerTransport
{
    Tcp,
    Udp,
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

    public static ListenerTransport Transport(ListenerProtocol protocol) => protocol switch
    {
        ListenerProtocol.UdpEcho => ListenerTransport.Udp,
        _ => ListenerTransport.Tcp,
    };

    /// <summary>The idle timeout a listener of this protocol gets when it does not set one.</summary>
    public static TimeSpan DefaultIdleTimeout(ListenerProtocol protocol, EchoHostOptions options) => protocol switch
    {
        ListenerProtocol.Chat => options.Chat.IdleTimeout,
        _ => TimeSpan.FromMinutes(5),
    };
}
