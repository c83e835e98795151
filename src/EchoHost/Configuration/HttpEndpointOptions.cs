namespace EchoHost.Configuration;

/// <summary><c>EchoHost:Http</c>: the HTTP endpoint for metrics and health.</summary>
public sealed class HttpEndpointOptions
{
    public bool Enabled { get; set; } = true;

    public int Port { get; set; } = 8080;

    /// <summary>Overrides <see cref="EchoHostOptions.Address"/> for the HTTP endpoint.</summary>
    public string? Address { get; set; }
}
