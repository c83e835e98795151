using System.Threading.Channels;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// This instance in the database: registered on connect, kept alive by heartbeats (and registered again with every
/// user when it was taken for dead), its users registered again after an outage, removed when it stops. The heartbeat
/// also does the housekeeping every instance shares: instances that stopped without leaving expire, and the history
/// of the rooms this instance wrote to is trimmed.
/// </summary>
internal sealed class BackplaneRegistry(
    ChatOptions options, BackplaneConnections connections, IBackplaneObserver observer, BackplaneTimings timings,
    BackplaneMembers members, ChannelWriter<ChatDelivery> deliveries, ILogger logger)
{
    /// <summary>Rooms written to since the last heartbeat (write loop only).</summary>
    private readonly HashSet<string> _roomsToTrim = new(StringComparer.Ordinal);

    public Guid Instance { get; } = Guid.NewGuid();

    /// <summary>How this instance signs its payloads (<see cref="BackplanePayload"/>): its id as 32 hex digits.</summary>
    public string InstanceKey => field ??= Instance.ToString("N");

    /// <summary>A line was stored in the history of <paramref name="roomKey"/>: trimmed with the next heartbeat (write loop only).</summary>
    public void Wrote(string roomKey) => _roomsToTrim.Add(roomKey);

    public async Task RegisterInstanceAsync(NpgsqlConnection connection, CancellationToken ct) =>
        await connections.ExecuteAsync(connection, ct, BackplaneSql.RegisterInstance, Instance);

    /// <summary>Leaves at once rather than expire, within <paramref name="cancellationToken"/> and at most 2 s: this instance's users are gone with it.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            // At most 2 s, within the stop's own budget.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            connection = await connections.OpenAsync(timeout.Token);
            await connections.ExecuteAsync(connection, timeout.Token, BackplaneSql.LeaveInstance, Instance);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            logger.LogLeaveFailed(connections.Server, ex.Message);
        }
        finally
        {
            if (connection is not null)
            {
                await connections.DisposeQuietlyAsync(connection);
            }
        }
    }

    /// <summary>
    /// After (re)connecting: this instance's users, as they are now, replace whatever the database holds for it. A
    /// nick someone else took meanwhile (claimed on another instance during the outage) costs the user here that nick:
    /// it becomes a fresh guest nick, the other instances hear of it, and the decision goes to the chat core as data
    /// (<see cref="ChatDelivery.NickLost"/>), which renames the user and tells it (or gives the guest nick back).
    /// </summary>
    public async Task RegisterUsersAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var users = members.Snapshot();
        await connections.ExecuteAsync(connection, ct, BackplaneSql.ClearMembers, Instance);

        var registered = new HashSet<string>(ChatNames.Comparer);
        await using (var register = BackplaneSql.Command(connection, BackplaneSql.RegisterMembers,
            users.Select(u => u.Nick).ToArray(), users.Select(u => u.Room).ToArray(), Instance,
            users.Select(u => ChatNames.NickKey(u.Nick)).ToArray()))
        {
            await connections.TimedAsync(connection, ReadNicksAsync(register, registered), ct);
        }

        var renamed = 0;
        foreach (var (nick, room) in users.Where(u => !registered.Contains(u.Nick)))
        {
            if (await connections.ScalarAsync(connection, ct, BackplaneSql.ClaimGuest, room, Instance) is not string guest)
            {
                continue;
            }

            renamed++;
            members.Renamed(nick, guest, room);
            deliveries.TryWrite(new ChatDelivery.NickLost(nick, guest, room));
            var notice = ChatEventCodec.Encode(ChatEvent.NickChanged(room, nick, guest));
            await NotifyAsync(connection, BackplanePayload.Format(InstanceKey, PayloadKind.RoomNotice, room, notice), ct);
        }

        logger.LogRegistered(users.Count, renamed);

        static async Task ReadNicksAsync(NpgsqlCommand register, HashSet<string> registered)
        {
            await using var reader = await register.ExecuteReaderAsync(CancellationToken.None);
            while (await reader.ReadAsync(CancellationToken.None))
            {
                registered.Add(reader.GetString(0));
            }
        }
    }

    /// <summary>Keeps this instance alive in the database, removes instances that stopped without leaving, trims history.</summary>
    public async Task HeartbeatAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (await connections.ExecuteAsync(connection, ct, BackplaneSql.KeepAlive, Instance) == 0)
        {
            // Taken for dead (silent too long, e.g. paused): come back with every user.
            await RegisterInstanceAsync(connection, ct);
            await RegisterUsersAsync(connection, ct);
        }

        await connections.ExecuteAsync(connection, ct, BackplaneSql.ExpireInstances, timings.InstanceLifetime);

        // History is read capped; the table is trimmed here, for the rooms this instance wrote to.
        if (_roomsToTrim.Count > 0)
        {
            await connections.ExecuteAsync(connection, ct, BackplaneSql.TrimHistory, _roomsToTrim.ToArray(), options.HistorySize);
            _roomsToTrim.Clear();
        }
    }

    /// <summary>One NOTIFY on the deadline, counted as published.</summary>
    public async Task NotifyAsync(NpgsqlConnection connection, string payload, CancellationToken ct)
    {
        await connections.ExecuteAsync(connection, ct, BackplaneSql.NotifyOne, payload);
        observer.Published(1);
    }
}
