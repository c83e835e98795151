namespace EchoHost.Hosting;

/// <summary>One listener on the operator's page; a count is null when the listener has no such series.</summary>
internal sealed record ListenerStatus(string Name, string Protocol, string Transport, string Address, string State, string? Detail)
{
    public const string Bound = "bound";
    public const string Pending = "pending";
    public const string Failed = "failed";
    public const string Disabled = "disabled";

    public bool Tls { get; init; }

    /// <summary>The PROXY protocol mode (<c>V1</c>, <c>V2</c>, <c>Any</c>…); null when off.</summary>
    public string? ProxyProtocol { get; init; }

    public long? Connections { get; init; }

    public long? BytesIn { get; init; }

    public long? BytesOut { get; init; }

    public long? DatagramsIn { get; init; }

    public long? DatagramsOut { get; init; }

    public long? ChatUsers { get; init; }
}
