using System.Diagnostics;

namespace EchoHost.Load.Modes;

/// <summary>
/// Idle connections: opens <c>--connections</c> connections (spread over <c>--sources</c>, 256 connects at a time),
/// keeps them open and silent for <c>--duration</c>, then proves every one still echoes (one message each, checked)
/// before closing them. An operation is one connection opened; its latency is the connect time.
/// </summary>
internal static class HoldMode
{
    public const string LatencyOf = "connect";

    private const int Lanes = 256;

    public static async Task RunAsync(LoadRun run)
    {
        var options = run.Options;
        var connections = new Connection?[options.Connections];
        var lanes = Math.Min(Lanes, options.Connections);
        var workers = Enumerable.Range(0, lanes).Select(_ => run.NewWorker()).ToArray();
        run.StartMeasuring();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, lanes).Select(lane => Task.Run(() => ConnectLaneAsync(run, workers[lane], connections, lane, lanes))));
            if (!run.IsStopping)
            {
                run.Hooks.Held?.Invoke();
                try
                {
                    await Task.Delay(options.Duration, run.Stopping);
                }
                catch (OperationCanceledException)
                {
                }
            }

            run.StopMeasuring();
            await Task.WhenAll(Enumerable.Range(0, lanes).Select(lane => Task.Run(() => ProbeLaneAsync(run, workers[lane], connections, lane, lanes))));
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection?.Dispose();
            }
        }
    }

    private static async Task ConnectLaneAsync(LoadRun run, WorkerStats worker, Connection?[] connections, int lane, int lanes)
    {
        var options = run.Options;
        for (var i = lane; i < connections.Length && !run.IsStopping; i += lanes)
        {
            var connection = Tcp.NewConnection(options, i);
            worker.Socket = connection.Socket;
            var started = Stopwatch.GetTimestamp();
            worker.Begin();
            try
            {
                await connection.ConnectAsync();
                connections[i] = connection;
                worker.Done(started, 0);
            }
            catch (Exception ex) when (Connection.IsFailure(ex))
            {
                worker.Error(Tcp.Describe(ex, worker, $"connection {i}", "connecting"));
                worker.TimedOut = false;
                connection.Dispose();
            }
        }
    }

    /// <summary>After the hold: each connection must still echo one message exactly (a connection the server dropped fails here).</summary>
    private static async Task ProbeLaneAsync(LoadRun run, WorkerStats worker, Connection?[] connections, int lane, int lanes)
    {
        var size = run.Options.Size;
        var buffer = Tcp.NewBuffer(size);
        for (var i = lane; i < connections.Length; i += lanes)
        {
            if (connections[i] is not { } connection)
            {
                continue;
            }

            worker.Socket = connection.Socket;
            var start = Pattern.StartOf(i);
            worker.Begin();
            try
            {
                await Tcp.SendPatternAsync(connection, start, 0, size);
                await Tcp.ReceiveVerifiedAsync(connection, worker, buffer, start, 0, size, $"held connection {i}");
                worker.OpStarted = 0;
            }
            catch (Exception ex) when (Connection.IsFailure(ex))
            {
                worker.Error(Tcp.Describe(ex, worker, $"held connection {i}", "echoing after the hold"));
                worker.TimedOut = false;
            }
        }
    }
}
