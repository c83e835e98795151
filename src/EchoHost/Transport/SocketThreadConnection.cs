using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport;

/// <summary>
/// The connection feature that says a connection came from an <see cref="InlineSocketListener"/>: its socket's
/// completions, and with them its handler, run on the socket engine's thread until the connection pipeline hands it
/// back to the thread pool (<see cref="SocketThreadBudget"/>, <see cref="MustLeave"/>).
/// </summary>
internal sealed class SocketThreadConnection
{
    public static readonly SocketThreadConnection Instance = new();

    private SocketThreadConnection()
    {
    }

    /// <summary>
    /// Whether code about to run for <paramref name="connection"/> is on a socket engine's thread and must first move
    /// to the thread pool (<c>await Task.Yield()</c>): only EchoHost's own connection path (the PROXY header, the
    /// handler) runs there, never what logs, counts or limits (Serilog's code, the limits' and the access log's). Any
    /// thread not the pool's counts: a handler can also resume on Kestrel's heartbeat thread (a close request cancels
    /// its read), which has no business carrying it further either.
    /// </summary>
    public static bool MustLeave(ConnectionContext connection) =>
        !Thread.CurrentThread.IsThreadPoolThread && connection.Features.Get<SocketThreadConnection>() is not null;
}
