using EchoHost.Protocols.Chat.Core;
using Npgsql;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>
/// The questions a user waits for (nick claims, private messages, /who, /rooms, a room's history): each queued as a
/// <see cref="BackplaneRequest"/> for the write loop, in order with what was said before it, and answered within the
/// deadline (<c>EchoHost:Chat:PostgresTimeout</c>) wherever it is; "unavailable" at once while unreachable.
/// </summary>
internal sealed class BackplaneQueries(
    BackplaneConnections connections, BackplaneListener listener, BackplaneRegistry registry, BackplaneWriter writer,
    IBackplaneObserver observer, TimeProvider time, BackplaneTimings timings)
{
    public ValueTask<string?> ClaimGuestNickAsync(string room) => AskAsync<string?>(null, async (connection, ct) =>
    {
        // The shared sequence makes a collision rare (someone may have picked guest-N by /nick): draw again then.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var command = BackplaneSql.Command(connection, BackplaneSql.ClaimGuest, room, registry.Instance);
            if (await command.ExecuteScalarAsync(ct) is string nick)
            {
                return nick;
            }
        }

        return null;
    });

    public ValueTask<NickClaim> ClaimNickAsync(string nick, string room) => AskAsync(NickClaim.Unavailable, async (connection, ct) =>
    {
        try
        {
            // The unique indexes on lower(nick) and nick_key decide, whoever else asks at the same time.
            await using var claim = BackplaneSql.Command(connection, BackplaneSql.ClaimNick, nick, room, registry.Instance, ChatNames.NickKey(nick));
            return await claim.ExecuteScalarAsync(ct) is null ? NickClaim.Taken : NickClaim.Claimed;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return NickClaim.Taken;
        }
    });

    public async ValueTask<NickClaim> RenameAsync(string oldNick, string newNick, string room, string notice)
    {
        var payload = BackplanePayload.Format(registry.InstanceKey, PayloadKind.RoomNotice, room, notice);
        return await AskAsync(NickClaim.Unavailable, async (connection, ct) =>
        {
            try
            {
                // One statement: the unique indexes on lower(nick) and nick_key decide atomically, whoever else asks at the same time.
                await using var rename = BackplaneSql.Command(connection, BackplaneSql.Rename, oldNick, newNick, registry.Instance, ChatNames.NickKey(newNick));
                if ((long)(await rename.ExecuteScalarAsync(ct))! == 0)
                {
                    // Not registered (it was taken while the database was away): claim the new nick afresh.
                    await using var claim = BackplaneSql.Command(connection, BackplaneSql.ClaimNick, newNick, room, registry.Instance, ChatNames.NickKey(newNick));
                    if (await claim.ExecuteScalarAsync(ct) is null)
                    {
                        return NickClaim.Taken;
                    }
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return NickClaim.Taken;
            }

            await registry.NotifyAsync(connection, payload, ct);
            return NickClaim.Claimed;
        });
    }

    public async ValueTask<Shared<string?>> SendPrivateAsync(string nick, string line)
    {
        var payload = BackplanePayload.Format(registry.InstanceKey, PayloadKind.Private, nick, line);
        var found = await AskAsync<string?>(null, async (connection, ct) =>
        {
            await using var command = BackplaneSql.Command(connection, BackplaneSql.SendPrivate, nick, payload, registry.Instance, timings.InstanceLifetime);
            var target = await command.ExecuteScalarAsync(ct) as string;
            if (target is not null)
            {
                observer.Published(1);
            }

            // "" for nobody, so that null keeps meaning unavailable.
            return target ?? "";
        });
        return found is null ? Shared<string?>.Unavailable : Shared<string?>.Of(found.Length == 0 ? null : found);
    }

    public ValueTask<Shared<IReadOnlyList<string>>> WhoAsync(string room) => AskSharedAsync<IReadOnlyList<string>>(async (connection, ct) =>
    {
        await using var command = BackplaneSql.Command(connection, BackplaneSql.Who, room, timings.InstanceLifetime);
        var nicks = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            nicks.Add(reader.GetString(0));
        }

        return nicks;
    });

    public ValueTask<Shared<IReadOnlyList<(string Name, int Members)>>> RoomsAsync() => AskSharedAsync<IReadOnlyList<(string, int)>>(async (connection, ct) =>
    {
        await using var command = BackplaneSql.Command(connection, BackplaneSql.Rooms, timings.InstanceLifetime);
        var rooms = new List<(string, int)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rooms.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return rooms;
    });

    public ValueTask<Shared<SharedRoom>> RoomAsync(string room, int count) => AskSharedAsync(async (connection, ct) =>
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                BackplaneSql.BatchCommand(BackplaneSql.RoomName, room, timings.InstanceLifetime),
                BackplaneSql.BatchCommand(BackplaneSql.RoomHistory, room, Math.Max(count, 0)),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var name = await reader.IsDBNullAsync(0, ct) ? null : reader.GetString(0);
        await reader.NextResultAsync(ct);
        var history = new List<(DateTimeOffset, ChatEvent)>();
        while (await reader.ReadAsync(ct))
        {
            // Rows of an older version hold rendered lines: they decode as verbatim events.
            history.Add((reader.GetFieldValue<DateTimeOffset>(0), ChatEventCodec.Decode(reader.GetString(1))));
        }

        return new SharedRoom(name, history);
    });

    private async ValueTask<T> AskAsync<T>(T unavailable, Func<NpgsqlConnection, CancellationToken, Task<T>> run)
    {
        if (listener.Session is not { Faulted: false })
        {
            return unavailable;
        }

        var request = new BackplaneRequest<T>(connections, run, unavailable);
        if (!writer.Enqueue(request))
        {
            request.Unavailable();
        }

        try
        {
            // A user waits on the database this long at most, wherever the request is (queued or running).
            return await request.Answer.Task.WaitAsync(connections.Timeout, time);
        }
        catch (TimeoutException)
        {
            request.Unavailable();
            return await request.Answer.Task;
        }
    }

    private async ValueTask<Shared<T>> AskSharedAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> run) where T : class
    {
        var answer = await AskAsync<T?>(null, async (connection, ct) => await run(connection, ct));
        return answer is null ? Shared<T>.Unavailable : Shared<T>.Of(answer);
    }
}
