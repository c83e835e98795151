using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Load.Modes;

/// <summary>
/// Datagram ping-pong: each socket sends a datagram (an 8-byte sequence number, then the pattern) and waits for its
/// echo; no reply within <c>--timeout</c> is a lost datagram, a reply to an earlier one that arrives late is counted
/// and skipped, any other difference is a mismatch.
/// </summary>
internal static class UdpMode
{
    public const string LatencyOf = "datagram round trip";

    public static Task RunAsync(LoadRun run) =>
        Task.WhenAll(Enumerable.Range(0, run.Options.Connections).Select(i => Task.Run(() => WorkerAsync(run, i))));

    private static async Task WorkerAsync(LoadRun run, int index)
    {
        var options = run.Options;
        var worker = run.NewWorker();
        var size = options.Size;
        var send = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        var receive = GC.AllocateUninitializedArray<byte>(Math.Max(size, 2048), pinned: true);
        var start = Pattern.StartOf(index);
        var pacer = new Pacer(run, index, options.Connections);
        var who = $"socket {index}";
        using var socket = new Socket(options.Target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        worker.Cancel = new CancellationTokenSource();
        try
        {
            var source = Tcp.SourceFor(options, index) ?? (options.Target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any);
            socket.Bind(new IPEndPoint(source, 0));
            socket.Connect(options.Target);
        }
        catch (SocketException ex)
        {
            worker.Error($"{who}: {ex.SocketErrorCode} ({ex.Message})");
            return;
        }

        long sequence = 0;
        while (run.TryTakeOp())
        {
            var due = await pacer.WaitAsync(run.Stopping);
            sequence++;
            BinaryPrimitives.WriteInt64LittleEndian(send, sequence);
            Pattern.Slice(start, sequence * 8191, size - 8).Span.CopyTo(send.AsSpan(8));
            worker.Begin();
            try
            {
                await socket.SendAsync(send, SocketFlags.None);
                while (true)
                {
                    var n = await socket.ReceiveAsync(receive, SocketFlags.None, worker.Cancel.Token);
                    var echoed = n >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(receive) : -1;
                    if (echoed > 0 && echoed < sequence)
                    {
                        worker.Late++;
                        continue;
                    }

                    if (n != size || !receive.AsSpan(0, n).SequenceEqual(send))
                    {
                        var at = n != size && receive.AsSpan(0, Math.Min(n, size)).SequenceEqual(send.AsSpan(0, Math.Min(n, size)))
                            ? $"{n} bytes came back for {size} sent"
                            : $"byte {receive.AsSpan(0, Math.Min(n, size)).CommonPrefixLength(send)} differs";
                        worker.Mismatch($"{who}: datagram {sequence}: {at}");
                        break;
                    }

                    worker.Done(due, size);
                    break;
                }
            }
            catch (OperationCanceledException) when (worker.TimedOut)
            {
                worker.Lost++;
                worker.TimedOut = false;
                worker.Cancel.Dispose();
                worker.Cancel = new CancellationTokenSource();
                if (!options.AllowLoss)
                {
                    run.NoteError($"{who}: datagram {sequence} lost (no reply within {options.Timeout.TotalSeconds:0.###} s)");
                }
            }
            catch (SocketException ex)
            {
                worker.Error($"{who}: datagram {sequence}: {ex.SocketErrorCode} ({ex.Message})");
                await Task.Delay(10);
            }
        }

        worker.Cancel.Dispose();
    }
}
