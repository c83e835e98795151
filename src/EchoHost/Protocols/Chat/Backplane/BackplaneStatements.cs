using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// What one batch of the writer becomes on PostgreSQL: each run of lines one statement (history rows by unnest, the
/// lines packed into as few NOTIFYs as fit), each membership change one statement with its notices. Run with error
/// barriers, each statement commits on its own, so one the server refuses loses only the events it carried.
/// </summary>
/// <param name="instance">This instance's id, whose members the changes concern.</param>
/// <param name="instanceKey">How it signs its payloads.</param>
/// <param name="historySize">Lines kept per room: 0 stores none.</param>
/// <param name="wrote">A room key whose history got lines (to trim).</param>
internal sealed class BackplaneStatements(Guid instance, string instanceKey, int historySize, Action<string> wrote)
{
    /// <summary>Numbers this instance's packed payloads (write loop only).</summary>
    private long _payloadSequence;

    /// <summary>The statements for <paramref name="batch"/>, in order, each with the number of events it carries as counted on <c>/metrics</c>.</summary>
    public List<(NpgsqlBatchCommand Command, int Notifies)> For(IReadOnlyList<BackplaneEvent> batch)
    {
        var statements = new List<(NpgsqlBatchCommand, int)>();
        for (var i = 0; i < batch.Count;)
        {
            var run = i;
            while (run < batch.Count && batch[run].IsLine)
            {
                run++;
            }

            var (command, count) = run > i ? (Lines(batch, i, run), run - i) : (Membership(batch[i]), 1);
            statements.Add((command, batch.Skip(i).Take(count).Sum(p => p.Notifies)));
            i += count;
        }

        return statements;
    }

    /// <summary>
    /// The events the refused statements carried: each is an error, as each would have been a statement of its own.
    /// </summary>
    public static int Lost(IEnumerable<(NpgsqlBatchCommand Command, int Notifies)> statements, IReadOnlyList<PostgresException> refusals) =>
        statements.Where(s => refusals.Any(r => r.BatchCommand == s.Command)).Sum(s => s.Notifies);

    /// <summary>
    /// The errors of the statements of a batch the server refused, each naming its statement (with error barriers,
    /// several come wrapped together); null when the failure is anything else.
    /// </summary>
    public static List<PostgresException>? Refusals(Exception ex)
    {
        IEnumerable<Exception> errors = ex switch
        {
            PostgresException => [ex],
            AggregateException many => many.InnerExceptions,
            NpgsqlException { InnerException: AggregateException many } => many.InnerExceptions,
            _ => [ex],
        };
        var refusals = new List<PostgresException>();
        foreach (var error in errors)
        {
            if (error is not PostgresException { BatchCommand: not null } refused)
            {
                return null;
            }

            refusals.Add(refused);
        }

        return refusals.Count > 0 ? refusals : null;
    }

    /// <summary>Lines <paramref name="from"/> up to <paramref name="to"/>: stored in the history (if kept) and packed into NOTIFYs, in one statement.</summary>
    private NpgsqlBatchCommand Lines(IReadOnlyList<BackplaneEvent> batch, int from, int to)
    {
        var lines = new List<BackplaneEvent>(to - from);
        for (var i = from; i < to; i++)
        {
            lines.Add(batch[i]);
            wrote(batch[i].Room.ToLowerInvariant());
        }

        var payloads = BackplanePayload.Pack(instanceKey, ref _payloadSequence, lines.Select(l => (PayloadKind.RoomMessage, l.Room, l.Line!))).ToArray();
        return historySize > 0
            ? BackplaneSql.BatchCommand(BackplaneSql.StoreAndNotifyMany,
                payloads, lines.Select(l => l.Room).ToArray(), lines.Select(l => l.At).ToArray(), lines.Select(l => l.Line!).ToArray())
            // As one parameter: a string[] alone would be taken for the params array itself, one parameter per payload.
            : BackplaneSql.BatchCommand(BackplaneSql.NotifyMany, (object)payloads);
    }

    /// <summary>A user entered a room (perhaps moving from another) or is gone: one statement with its notices.</summary>
    private NpgsqlBatchCommand Membership(BackplaneEvent change)
    {
        if (change.Gone)
        {
            return change.Notice is null
                ? BackplaneSql.BatchCommand(BackplaneSql.ReleaseNick, change.Nick, instance)
                : BackplaneSql.BatchCommand(BackplaneSql.ReleaseNickAndNotify, Notice(change.Room, change.Notice), change.Nick, instance);
        }

        var joined = Notice(change.Room, change.Notice!);
        // One statement, so one transaction: its notifications are delivered at its commit, in the order sent, and by
        // then the membership has moved (the "left" line first, as the rooms hear it here).
        return change.LeftRoom is { } from
            ? BackplaneSql.BatchCommand(BackplaneSql.MoveAndNotifyBoth, joined, change.Room, change.Nick, instance, Notice(from.Room, from.Notice))
            : BackplaneSql.BatchCommand(BackplaneSql.MoveAndNotify, joined, change.Room, change.Nick, instance);
    }

    private string Notice(string room, string notice) => BackplanePayload.Format(instanceKey, PayloadKind.RoomNotice, room, notice);
}
