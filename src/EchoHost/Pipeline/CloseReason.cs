namespace EchoHost.Pipeline;

/// <summary>Why a connection ended, as written in the disconnect log line.</summary>
internal enum CloseReason
{
    /// <summary>
    /// The handler finished without the client closing first (for example a protocol's quit command). Like
    /// <see cref="ClientClosed"/>, a protocol may also request it, to give its last lines the close grace and no more.
    /// </summary>
    ServerClosed,
    ClientClosed,
    ClientReset,
    IdleTimeout,
    Shutdown,
    /// <summary>Something in the application asked Kestrel's lifetime feature to close the connection.</summary>
    Requested,
    /// <summary>The client did not read what was sent to it fast enough (chat's queue overflowed).</summary>
    SlowReader,
    /// <summary>
    /// The TLS session failed after the handshake: the client broke the protocol, or asked for what the server
    /// refuses (a renegotiation); the connection itself was fine.
    /// </summary>
    TlsError,
}

internal static class CloseReasons
{
    public static string Describe(this CloseReason reason) => reason switch
    {
        CloseReason.ServerClosed => "closed by server",
        CloseReason.ClientClosed => "closed by client",
        CloseReason.ClientReset => "reset by client",
        CloseReason.IdleTimeout => "idle timeout",
        CloseReason.Shutdown => "server shutdown",
        CloseReason.Requested => "close requested",
        CloseReason.SlowReader => "slow reader",
        CloseReason.TlsError => "TLS error",
        _ => reason.ToString(),
    };
}
