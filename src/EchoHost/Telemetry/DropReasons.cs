namespace EchoHost.Telemetry;

/// <summary>Why the chat protocol dropped a line: the <c>reason</c> tag of <c>echohost.chat.lines.dropped</c>.</summary>
internal enum ChatLineDropReason
{
    /// <summary>The sender exceeded the flood limit.</summary>
    Flood,
    /// <summary>The line was longer than the maximum line length.</summary>
    TooLong,
    /// <summary>The line was not valid UTF-8.</summary>
    InvalidUtf8,
}

/// <summary>Why a UDP datagram was not echoed: the <c>reason</c> tag of <c>echohost.udp.datagrams.dropped</c>.</summary>
internal enum UdpDropReason
{
    /// <summary>It came from a source port that is never answered (reflection guard).</summary>
    DeniedPort,
    /// <summary>Its source address cannot be answered (for example a broadcast or multicast source).</summary>
    BadSource,
    /// <summary>The per-source rate limit was exceeded.</summary>
    RateLimited,
    /// <summary>It was larger than the listener accepts.</summary>
    TooLarge,
}

internal static class DropReasons
{
    public static string TagValue(this ChatLineDropReason reason) => reason switch
    {
        ChatLineDropReason.Flood => "flood",
        ChatLineDropReason.TooLong => "too_long",
        ChatLineDropReason.InvalidUtf8 => "invalid_utf8",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public static string TagValue(this UdpDropReason reason) => reason switch
    {
        UdpDropReason.DeniedPort => "denied_port",
        UdpDropReason.BadSource => "bad_source",
        UdpDropReason.RateLimited => "rate_limited",
        UdpDropReason.TooLarge => "too_large",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
