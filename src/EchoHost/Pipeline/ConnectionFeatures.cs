namespace EchoHost.Pipeline;

/// <summary>
/// The one way to end a connection from inside the pipeline or a protocol: say why. The connection's
/// <c>ConnectionClosedRequested</c> is cancelled so the handler stops reading and returns; a handler that has not
/// returned within <see cref="ConnectionSession.CloseGrace"/> has its socket aborted. The reason is what the
/// disconnect log line says.
/// </summary>
internal interface IConnectionCloseFeature
{
    /// <summary>The first reason given, or null while nobody asked the connection to close.</summary>
    CloseReason? CloseRequestReason { get; }

    /// <summary>Asks the connection to close; the first reason wins. False when a close was already requested.</summary>
    bool RequestClose(CloseReason reason);
}

/// <summary>
/// What a protocol wants <c>GET /connections</c> to show about a connection (chat: <c>nick</c>, <c>room</c>), without
/// the pipeline knowing any protocol.
/// </summary>
internal interface IConnectionDetailsFeature
{
    /// <summary>Sets a detail; null removes it. Names are shown as written (lower camel case, like the other fields).</summary>
    void SetDetail(string name, string? value);
}
