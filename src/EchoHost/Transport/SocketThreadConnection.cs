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

    /// <summary>Whether the connection came from an <see cref="InlineSocketListener"/>; read it once, before its first read.</summary>
    public static bool Of(ConnectionContext connection) => connection.Features.Get<SocketThreadConnection>() is not null;

    /// <summary>
    /// Whether code about to run for a connection of an <see cref="InlineSocketListener"/> (<paramref name="onSocketThreads"/>,
    /// from <see cref="Of"/>) is on a socket engine's thread and must first move to the thread pool
    /// (<c>await Task.Yield()</c>): only EchoHost's own connection path (the PROXY header, the handler) runs there,
    /// never what logs, counts or limits (Serilog's code, the limits' and the access log's). Any thread not the pool's
    /// counts: a handler can also resume on Kestrel's heartbeat thread (a close request cancels its read), which has no
    /// business carrying it further either. The flag is read before, not here: the connection's features are not
    /// meant to be read from another thread while the pipeline may be changing them.
    /// </summary>
    public static bool MustLeave(bool onSocketThreads) => onSocketThreads && !Thread.CurrentThread.IsThreadPoolThread;
}
