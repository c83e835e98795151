using System.Diagnostics;

namespace EchoHost.Load.Modes;

/// <summary>
/// Chat fan-out: <c>--connections</c> users join one room; once all are in, they send lines at <c>--rate</c> lines per
/// second in all (in turn, evenly spaced), and every user checks every line it receives from the others: its
/// content, that none is missing or delivered twice, the order per sender, and the delivery latency. An operation is
/// one delivery; the run fails when any expected delivery is missing or duplicated.
/// </summary>
internal static class ChatMode
{
    public const string LatencyOf = "delivery: send to receipt by another user";

    private const int JoinLanes = 64;

    public static async Task<ChatSummary> RunAsync(LoadRun run)
    {
        var options = run.Options;
        var count = options.Connections;
        var tag = Convert.ToString(Random.Shared.Next(36 * 36 * 36, 36 * 36 * 36 * 36), 16);
        var users = new ChatUser[count];
        for (var i = 0; i < count; i++)
        {
            users[i] = new ChatUser(run, run.NewWorker(), i, count, tag);
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(JoinLanes, count)).Select(lane => Task.Run(async () =>
            {
                for (var i = lane; i < count && !run.IsStopping; i += JoinLanes)
                {
                    await users[i].JoinAsync();
                }
            })));

            if (users.All(u => u.IsJoined) && !run.IsStopping)
            {
                var clock = run.RunClockAsync();
                await SendAsync(run, users);
                if (options.Count == 0)
                {
                    run.StopMeasuring();
                }

                await clock;
                await DrainAsync(run, users);
                run.StopMeasuring(); // with --count, the deliveries of the last lines count too
            }
            else
            {
                run.Abort();
            }
        }
        finally
        {
            await Task.WhenAll(users.Select(u => u.CloseAsync()));
        }

        long sent = 0, delivered = 0, duplicates = 0, outOfOrder = 0;
        foreach (var user in users)
        {
            sent += user.Sent;
            delivered += user.Delivered;
            duplicates += user.Duplicates;
            outOfOrder += user.OutOfOrder;
        }

        var expected = sent * (count - 1);
        return new ChatSummary(count, sent, expected, delivered, Math.Max(0, expected - delivered), duplicates, outOfOrder);
    }

    /// <summary>One sender loop for all users: line k goes out at start + k / rate, from user k mod N.</summary>
    private static async Task SendAsync(LoadRun run, ChatUser[] users)
    {
        var interval = Stopwatch.Frequency / run.Options.Rate;
        var started = Stopwatch.GetTimestamp();
        long k = 0;
        while (!run.IsStopping)
        {
            var due = started + (long)(k * interval);
            var now = Stopwatch.GetTimestamp();
            if (due > now)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(0.001, (double)(due - now) / Stopwatch.Frequency)), run.Stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (!run.TryTakeOp())
            {
                break;
            }

            await users[k % users.Length].SendLineAsync();
            k++;
        }
    }

    /// <summary>After the last line: waits until every delivery is made, or until none has come for a while.</summary>
    private static async Task DrainAsync(LoadRun run, ChatUser[] users)
    {
        var quiet = TimeSpan.FromSeconds(Math.Min(run.Options.Timeout.TotalSeconds, 3));
        long last = -1;
        var lastChange = Stopwatch.GetTimestamp();
        while (true)
        {
            long sent = 0, delivered = 0;
            foreach (var user in users)
            {
                sent += user.Sent;
                delivered += Volatile.Read(ref user.Delivered);
            }

            if (delivered >= sent * (users.Length - 1) || users.All(u => u.IsClosed))
            {
                return;
            }

            if (delivered != last)
            {
                (last, lastChange) = (delivered, Stopwatch.GetTimestamp());
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > quiet)
            {
                return;
            }

            await Task.Delay(20);
        }
    }
}
