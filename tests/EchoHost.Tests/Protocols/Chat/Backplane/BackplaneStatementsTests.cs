using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using Npgsql;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>
/// What one batch of the writer becomes on PostgreSQL, without a database: the statements (each run of lines one,
/// each membership change one), the events each carries, and what a refusal behind error barriers loses.
/// </summary>
public sealed class BackplaneStatementsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Instance = Guid.NewGuid();
    private static readonly string InstanceKey = Instance.ToString("N");

    private readonly List<string> _wrote = [];

    private BackplaneStatements Statements(int historySize = 20) => new(Instance, InstanceKey, historySize, _wrote.Add);

    private static BackplaneEvent Line(string sender, string room, int i) => BackplaneEvent.Said(sender, room, $"<{sender}> {i}", At);

    [Fact]
    public void Each_run_of_lines_is_one_statement_and_each_membership_change_one_in_order()
    {
        var batch = new[]
        {
            Line("ann", "Lobby", 1),
            Line("bob", "games", 2),
            BackplaneEvent.Entered("ann", "games", "*** ann joined games", ("Lobby", "*** ann left Lobby (joined games)")),
            Line("ann", "games", 3),
            BackplaneEvent.Left("cy", "lobby", null),
            BackplaneEvent.Left("dee", "lobby", "*** dee left lobby (quit)"),
            BackplaneEvent.Entered("eve", "lobby", "*** eve joined lobby", null),
        };

        var statements = Statements().For(batch);

        Assert.Equal(
            [
                (BackplaneSql.StoreAndNotifyMany, 2),
                (BackplaneSql.MoveAndNotifyBoth, 2),
                (BackplaneSql.StoreAndNotifyMany, 1),
                (BackplaneSql.ReleaseNick, 0),
                (BackplaneSql.ReleaseNickAndNotify, 1),
                (BackplaneSql.MoveAndNotify, 1),
            ],
            statements.Select(s => (s.Command.CommandText, s.Notifies)));
        Assert.Equal(["lobby", "games", "games"], _wrote);

        // The lines of a run: packed payloads ($1), then the history rows ($2 rooms, $3 times, $4 lines).
        var lines = statements[0].Command.Parameters;
        Assert.Equal(["Lobby", "games"], (string[])lines[1].Value!);
        Assert.Equal([At, At], (DateTimeOffset[])lines[2].Value!);
        Assert.Equal(["<ann> 1", "<bob> 2"], (string[])lines[3].Value!);
        var events = new List<BackplanePayload>();
        Assert.All((string[])lines[0].Value!, p => Assert.True(BackplanePayload.TryUnpack(p, events)));
        Assert.Equal([("Lobby", "<ann> 1"), ("games", "<bob> 2")], events.Select(e => (e.Target, e.Line)));
        Assert.All(events, e => Assert.Equal((InstanceKey, PayloadKind.RoomMessage), (e.Instance, e.Kind)));

        // A move: the room entered hears $1, the room left $5 (sent first); the member is matched by nick and instance.
        var move = statements[1].Command.Parameters.Select(p => p.Value).ToList();
        Assert.Equal<object?>([Notice("games", "*** ann joined games"), "games", "ann", Instance, Notice("Lobby", "*** ann left Lobby (joined games)")], move);
        Assert.Equal<object?>(["cy", Instance], statements[3].Command.Parameters.Select(p => p.Value));
        Assert.Equal<object?>([Notice("lobby", "*** dee left lobby (quit)"), "dee", Instance], statements[4].Command.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void Without_history_lines_are_only_notified_all_payloads_as_one_parameter()
    {
        var statements = Statements(historySize: 0).For([Line("ann", "lobby", 1), Line("ann", "lobby", 2), Line("ann", "lobby", 3)]);

        var (command, notifies) = Assert.Single(statements);
        Assert.Equal((BackplaneSql.NotifyMany, 3), (command.CommandText, notifies));
        var payloads = (string[])Assert.Single(command.Parameters).Value!;
        Assert.Single(payloads);
    }

    [Fact]
    public void Packed_payloads_are_numbered_on_across_batches_so_two_of_one_transaction_never_look_alike()
    {
        var statements = Statements(historySize: 0);
        var first = (string[])statements.For([Line("ann", "lobby", 1)])[0].Command.Parameters[0].Value!;
        var second = (string[])statements.For([Line("ann", "lobby", 1)])[0].Command.Parameters[0].Value!;

        Assert.NotEqual(first[0], second[0]);
    }

    [Fact]
    public void A_refused_statement_loses_only_the_events_it_carried()
    {
        var statements = Statements().For(
        [
            Line("ann", "lobby", 1),
            Line("bob", "lobby", 2),
            BackplaneEvent.Entered("ann", "games", "*** ann joined games", ("lobby", "*** ann left lobby (joined games)")),
            Line("ann", "games", 3),
        ]);
        var refused = Refused(statements[1].Command);

        Assert.Equal(2, BackplaneStatements.Lost(statements, [refused]));
        Assert.Equal(3, BackplaneStatements.Lost(statements, [refused, Refused(statements[2].Command)]));
        Assert.Equal(0, BackplaneStatements.Lost(statements, [Refused(new NpgsqlBatchCommand("SELECT 1"))]));
    }

    [Fact]
    public void Refusals_are_the_errors_naming_their_statement_one_or_several_and_anything_else_is_a_failure_of_the_connection()
    {
        var one = Refused(new NpgsqlBatchCommand("SELECT 1"));
        var two = Refused(new NpgsqlBatchCommand("SELECT 2"));

        Assert.Equal([one], BackplaneStatements.Refusals(one));
        Assert.Equal([one, two], BackplaneStatements.Refusals(new AggregateException(one, two)));
        Assert.Equal([one, two], BackplaneStatements.Refusals(new NpgsqlException("batch failed", new AggregateException(one, two))));

        Assert.Null(BackplaneStatements.Refusals(new PostgresException("no statement", "ERROR", "ERROR", PostgresErrorCodes.InsufficientPrivilege)));
        Assert.Null(BackplaneStatements.Refusals(new AggregateException(one, new IOException("connection reset"))));
        Assert.Null(BackplaneStatements.Refusals(new NpgsqlException("connection lost", new IOException("connection reset"))));
        Assert.Null(BackplaneStatements.Refusals(new TimeoutException("no answer within 3 s")));
    }

    private static PostgresException Refused(NpgsqlBatchCommand command) =>
        new("permission denied for table chat_history", "ERROR", "ERROR", PostgresErrorCodes.InsufficientPrivilege) { BatchCommand = command };

    private static string Notice(string room, string notice) => BackplanePayload.Format(InstanceKey, PayloadKind.RoomNotice, room, notice);
}
