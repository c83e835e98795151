namespace EchoHost.Configuration;

/// <summary>One entry of <c>EchoHost:Listeners</c>.</summary>
public sealed class ListenerOptions
{
    public const int DefaultMaxConnections = 10_000;
    public const int DefaultMaxConnectionsPerIp = 1_000;

    /// <summary><c>Echo</c> (more protocols arrive with their own issues).</summary>
    public string? Protocol { get; set; }

    public int? Port { get; set; }

    /// <summary>Overrides <see cref="EchoHostOptions.Address"/> for this listener.</summary>
    public string? Address { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Closes a connection that moved no byte for this long; <c>0</c> turns it off; unset means the protocol's default.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Open connections allowed on this listener; <c>0</c> means no limit.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Open connections allowed from one client IP on this listener; <c>0</c> means no limit.</summary>
    public int MaxConnectionsPerIp { get; set; } = DefaultMaxConnectionsPerIp;

    /// <summary>A line sent on connect; <c>{host}</c> becomes the machine name. Unset means no banner.</summary>
    public string? Banner { get; set; }
}
