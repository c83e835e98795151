namespace EchoHost.Load.Modes;

/// <summary>
/// Connection churn: each worker connects, sends one message, shuts down its sending side, reads the echo until the
/// server closes, checks it and closes; then the next. An operation is one whole connection.
/// </summary>
internal static class ChurnMode
{
    public const string LatencyOf = "connect, echo and close";

    public static Task RunAsync(LoadRun run) =>
        Task.WhenAll(Enumerable.Range(0, run.Options.Connections).Select(i => Task.Run(() => WorkerAsync(run, i))));

    private static async Task WorkerAsync(LoadRun run, int index)
    {
        var options = run.Options;
        var worker = run.NewWorker();
        var buffer = Tcp.NewBuffer(options.Size);
        var pacer = new Pacer(run, index, options.Connections);
        long iteration = 0;
        while (run.TryTakeOp())
        {
            var due = await pacer.WaitAsync(run.Stopping);
            var id = ((long)index << 32) | iteration;
            var start = Pattern.StartOf(id);
            var doing = "connecting";
            worker.Begin();
            var connection = Tcp.NewConnection(options, index + iteration * options.Connections);
            worker.Socket = connection.Socket;
            iteration++;
            try
            {
                await connection.ConnectAsync();
                doing = "echoing";
                await Tcp.SendPatternAsync(connection, start, 0, options.Size);
                await connection.ShutdownSendAsync();
                if (!await Tcp.ReceiveVerifiedAsync(connection, worker, buffer, start, 0, options.Size, $"worker {index}, connection {iteration}"))
                {
                    await Task.Delay(10); // a failing server is not hammered in a tight loop
                    continue;
                }

                doing = "waiting for the server to close after the half-close";
                if (await connection.ReceiveAsync(buffer) != 0)
                {
                    worker.Mismatch($"worker {index}, connection {iteration}: more bytes echoed than sent");
                    continue;
                }

                worker.Done(due, options.Size);
            }
            catch (Exception ex) when (Connection.IsFailure(ex))
            {
                worker.Error(Tcp.Describe(ex, worker, $"worker {index}, connection {iteration}", doing));
                worker.TimedOut = false;
                await Task.Delay(10);
            }
            finally
            {
                connection.Dispose();
            }
        }
    }
}
