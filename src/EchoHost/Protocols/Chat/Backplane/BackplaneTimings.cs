namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// How often an instance says it is alive, and how long an instance may stay silent before it is taken for dead with
/// its users. Not configuration: the defaults are what every instance on one database must agree on. Tests register
/// shorter ones to see expiry happen in seconds.
/// </summary>
internal sealed record BackplaneTimings(TimeSpan HeartbeatInterval, TimeSpan InstanceLifetime)
{
    public static BackplaneTimings Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
}
