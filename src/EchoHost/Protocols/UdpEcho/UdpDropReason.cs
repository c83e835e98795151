namespace EchoHost.Protocols.UdpEcho;

/// <summary>Why a datagram was dropped instead of answered. Every drop is silent to the sender and counted.</summary>
internal enum UdpDropReason
{
    /// <summary>The source port is in <c>DenySourcePorts</c>, or is the listener's own port.</summary>
    DeniedPort,
    /// <summary>The source address is unspecified, broadcast or multicast: no real peer sends from there.</summary>
    BadSource,
    /// <summary>Bigger than <c>MaxDatagramBytes</c>.</summary>
    TooLarge,
    /// <summary>The source IP is over <c>PerSourceDatagramsPerSecond</c>.</summary>
    RateLimited,
}

internal static class UdpDropReasons
{
    public static IReadOnlyList<UdpDropReason> All { get; } = Enum.GetValues<UdpDropReason>();

    /// <summary>The reason as logs and metrics name it: <c>denied_port</c>, <c>bad_source</c>, …</summary>
    public static string Name(UdpDropReason reason) => reason switch
    {
        UdpDropReason.DeniedPort => "denied_port",
        UdpDropReason.BadSource => "bad_source",
        UdpDropReason.TooLarge => "too_large",
        UdpDropReason.RateLimited => "rate_limited",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
