namespace EchoHost.Load.Modes;

/// <summary>Request/response: each connection sends a message, reads its echo back in full and checks it, then sends the next.</summary>
internal static class PingPongMode
{
    public const string LatencyOf = "round trip: send to last echoed byte";

    public static Task RunAsync(LoadRun run) =>
        Task.WhenAll(Enumerable.Range(0, run.Options.Connections).Select(i => Task.Run(() =>
            run.Options.TargetFor(i).IsWebSocket ? WebSocketPingPong.WorkerAsync(run, i) : WorkerAsync(run, i))));

    private static async Task WorkerAsync(LoadRun run, int index)
    {
        var options = run.Options;
        var worker = run.NewWorker();
        var who = $"connection {index}";
        var start = Pattern.StartOf(index);
        var buffer = Tcp.NewBuffer(options.Size);
        var pacer = new Pacer(run, index, options.Connections);
        using var connection = Tcp.NewConnection(options, index);
        worker.Socket = connection.Socket;
        var doing = "connecting";
        try
        {
            worker.Begin();
            await connection.ConnectAsync(run.Stopping);
            worker.OpStarted = 0;
            long offset = 0;
            doing = "echoing";
            while (run.TryTakeOp())
            {
                var due = await pacer.WaitAsync(run.Stopping);
                worker.Begin();
                await Tcp.SendPatternAsync(connection, start, offset, options.Size);
                if (!await Tcp.ReceiveVerifiedAsync(connection, worker, buffer, start, offset, options.Size, who))
                {
                    return;
                }

                offset += options.Size;
                worker.Done(due, options.Size);
            }
        }
        catch (OperationCanceledException) when (run.IsStopping && doing == "connecting")
        {
        }
        catch (Exception ex)
        {
            worker.Error(Tcp.Describe(ex, worker, who, doing));
        }
    }
}
