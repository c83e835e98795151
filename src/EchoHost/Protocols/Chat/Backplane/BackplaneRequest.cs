using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>Work the write loop runs on its connection in turn, after every event queued before it.</summary>
internal abstract class BackplaneRequest : BackplaneWork
{
    public abstract Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

    /// <summary>It will not run, or not in time: answer "unavailable".</summary>
    public abstract void Unavailable();
}

/// <summary>A question a user waits for: run on the deadline as one operation (nothing to run once answered).</summary>
internal sealed class BackplaneRequest<T>(BackplaneConnections connections, Func<NpgsqlConnection, CancellationToken, Task<T>> run, T unavailable)
    : BackplaneRequest
{
    public TaskCompletionSource<T> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!Answer.Task.IsCompleted)
        {
            Answer.TrySetResult(await connections.TimedAsync(connection, run(connection, CancellationToken.None), cancellationToken));
        }
    }

    public override void Unavailable() => Answer.TrySetResult(unavailable);
}

/// <summary>The instance's housekeeping (<see cref="BackplaneRegistry.HeartbeatAsync"/>), queued like any request.</summary>
internal sealed class BackplaneHeartbeat(BackplaneRegistry registry) : BackplaneRequest
{
    public override Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        registry.HeartbeatAsync(connection, cancellationToken);

    public override void Unavailable()
    {
    }
}
