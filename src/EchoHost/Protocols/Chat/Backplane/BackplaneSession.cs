using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// One connection of the write loop, from connect until it fails (or the host stops): opened by the
/// <see cref="BackplaneListener"/>, written on only by the <see cref="BackplaneExecutor"/>.
/// </summary>
internal sealed class BackplaneSession(NpgsqlConnection connection, CancellationToken stopping)
{
    private readonly CancellationTokenSource _fault = CancellationTokenSource.CreateLinkedTokenSource(stopping);

    public NpgsqlConnection Connection { get; } = connection;

    /// <summary>This instance's users are still to be registered on it (see <see cref="BackplaneRegistry.RegisterUsersAsync"/>).</summary>
    public bool NeedsRegistration { get; set; } = true;

    public bool Faulted => _fault.IsCancellationRequested;

    /// <summary>
    /// Cancelled when the session fails or the host stops: every wait for a statement on it ends then (the
    /// statement itself is never cancelled: see <see cref="BackplaneConnections.TimedAsync"/>).
    /// </summary>
    public CancellationToken Fault => _fault.Token;

    public Exception? Failure { get; private set; }

    public void Fail(Exception? failure)
    {
        Failure ??= failure;
        _fault.Cancel();
    }
}
