namespace EchoHost.Configuration;

/// <summary>A UDP listener's safety limits with every default applied.</summary>
internal sealed record UdpLimits(int MaxDatagramBytes, IReadOnlyList<int> DenySourcePorts, int PerSourceDatagramsPerSecond)
{
    public static UdpLimits Default { get; } = new(
        ListenerOptions.MaxUdpPayload,
        ListenerOptions.DefaultDenySourcePorts,
        ListenerOptions.DefaultPerSourceDatagramsPerSecond);

    public static UdpLimits FromOptions(ListenerOptions listener) => new(
        listener.MaxDatagramBytes ?? Default.MaxDatagramBytes,
        listener.DenySourcePorts ?? Default.DenySourcePorts,
        listener.PerSourceDatagramsPerSecond ?? Default.PerSourceDatagramsPerSecond);
}
