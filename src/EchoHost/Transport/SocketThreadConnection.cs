namespace EchoHost.Transport;

/// <summary>
/// The connection feature that says a connection came from an <see cref="InlineSocketListener"/>: its socket's
/// completions, and with them its handler, run on the socket engine's thread until the connection pipeline hands it
/// back to the thread pool (<see cref="SocketThreadBudget"/>).
/// </summary>
internal sealed class SocketThreadConnection
{
    public static readonly SocketThreadConnection Instance = new();

    private SocketThreadConnection()
    {
    }
}
