using System.Net.WebSockets;

namespace EchoHost.Load.Modes;

/// <summary>
/// pingpong over WebSocket: each connection sends a binary message of <c>--size</c> bytes, reads the echoed message in
/// full and checks it (every byte, binary, exactly as long as sent), then sends the next. op = one message echoed.
/// </summary>
internal static class WebSocketPingPong
{
    public static async Task WorkerAsync(LoadRun run, int index)
    {
        var options = run.Options;
        var worker = run.NewWorker();
        var who = $"connection {index}";
        var start = Pattern.StartOf(index);
        // One byte more than a message: an echo longer than what was sent shows as such.
        var buffer = Tcp.NewBuffer(options.Size + 1);
        var pacer = new Pacer(run, index, options.Connections);
        using var connection = Tcp.NewConnection(options, index);
        worker.Socket = connection.Socket;
        WebSocket? socket = null;
        var doing = "connecting";
        try
        {
            worker.Begin();
            await connection.ConnectAsync(run.Stopping);
            doing = "upgrading to a WebSocket";
            socket = await WebSocketHandshake.UpgradeAsync(connection, options.TargetFor(index).WebSocket!);
            worker.OpStarted = 0;
            long offset = 0;
            doing = "echoing";
            while (run.TryTakeOp())
            {
                var due = await pacer.WaitAsync(run.Stopping);
                worker.Begin();
                for (var sent = 0; sent < options.Size;)
                {
                    var chunk = Math.Min(options.Size - sent, Pattern.MaxChunk);
                    await socket.SendAsync(Pattern.Slice(start, offset + sent, chunk), WebSocketMessageType.Binary, sent + chunk == options.Size, CancellationToken.None);
                    sent += chunk;
                }

                if (!await ReceiveVerifiedAsync(socket, worker, buffer, start, offset, options.Size, who))
                {
                    return;
                }

                offset += options.Size;
                worker.Done(due, options.Size);
            }

            doing = "closing";
            await CloseAsync(socket);
        }
        catch (OperationCanceledException) when (run.IsStopping && doing == "connecting")
        {
        }
        catch (Exception ex)
        {
            worker.Error(Tcp.Describe(ex, worker, who, doing));
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>Reads one message and checks it is the binary echo of the <paramref name="length"/> bytes sent at <paramref name="offset"/>.</summary>
    private static async ValueTask<bool> ReceiveVerifiedAsync(WebSocket socket, WorkerStats worker, byte[] buffer, int start, long offset, int length, string who)
    {
        var got = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, length + 1 - got)), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                worker.Error($"{who}: closed by the server ({Closed(socket)}) after {offset + got} echoed bytes, {length - got} more expected");
                return false;
            }

            if (result.MessageType != WebSocketMessageType.Binary)
            {
                worker.Mismatch($"{who}: a binary message came back as {result.MessageType.ToString().ToLowerInvariant()}");
                return false;
            }

            if (got + result.Count > length)
            {
                worker.Mismatch($"{who}: the echo of a {length}-byte message is longer than that");
                return false;
            }

            if (!Tcp.Check(worker, buffer.AsSpan(0, result.Count), start, offset + got, who))
            {
                return false;
            }

            got += result.Count;
            if (result.EndOfMessage)
            {
                if (got < length)
                {
                    worker.Mismatch($"{who}: the echo of a {length}-byte message is {got} bytes");
                    return false;
                }

                return true;
            }
        }
    }

    /// <summary>The server's close status and reason, as "1009 message too big".</summary>
    public static string Closed(WebSocket socket) =>
        socket.CloseStatus is { } status ? $"{(int)status}{(string.IsNullOrEmpty(socket.CloseStatusDescription) ? "" : " " + socket.CloseStatusDescription)}" : "no close status";

    /// <summary>The closing handshake, bounded: a server that never answers the close does not hold up the run.</summary>
    public static async Task CloseAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException || Connection.IsFailure(ex))
        {
        }
    }
}
