using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace EchoHost.Load.Modes;

/// <summary>
/// One chat user: its connection (raw TCP or WebSocket, <see cref="ChatLink"/>), its join handshake (EchoHost chat or
/// minimal IRC), the lines it sends and the bookkeeping of the lines it receives. The message text is <see cref="ChatMessageLine"/>'s; what was new, late or
/// duplicated is <see cref="DeliveryWindow"/>'s.
/// </summary>
internal sealed class ChatUser
{
    private readonly LoadRun _run;
    private readonly WorkerStats _worker;
    private readonly int _id;
    private readonly int _users;
    private readonly string _nick;
    private readonly ChatLink _link;
    private readonly byte[] _sendBuffer;
    private readonly byte[] _prefix;
    private readonly byte[] _room;
    private readonly DeliveryWindow _deliveries;
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiving = Task.CompletedTask;
    private volatile bool _closing;
    private bool _sawLobby;
    private long _sequence;

    public long Sent;
    public long Delivered;
    public long Duplicates;
    public long OutOfOrder;

    public ChatUser(LoadRun run, WorkerStats worker, int id, int users, string tag)
    {
        _run = run;
        _worker = worker;
        _id = id;
        _users = users;
        _nick = $"ld{tag}x{id}";
        // With several targets users take turns: user i talks to target i mod count.
        _link = ChatLink.For(run.Options, id);
        _worker.Socket = _link.Socket;
        _sendBuffer = new byte[run.Options.Size + 512];
        _room = Encoding.UTF8.GetBytes(run.Options.RoomName);
        _prefix = run.Options.Dialect == ChatDialect.Irc ? Encoding.UTF8.GetBytes($"PRIVMSG {run.Options.RoomName} :") : [];
        _deliveries = new DeliveryWindow(users);
    }

    private bool Irc => _run.Options.Dialect == ChatDialect.Irc;

    public bool IsJoined => _joined.Task.IsCompletedSuccessfully;

    public bool IsClosed { get; private set; }

    private string Who => $"user {_id} ({_nick})";

    /// <summary>Connects, starts reading, and waits until the user is in the room.</summary>
    public async Task JoinAsync()
    {
        _worker.Begin();
        try
        {
            await _link.ConnectAsync();
            _receiving = Task.Run(ReceiveLoopAsync);
            if (Irc)
            {
                // One line per send: over WebSocket each is a message of its own.
                Send($"NICK {_nick}\r\n");
                Send($"USER {_nick} 0 * :echohost-load\r\n");
            }

            await _joined.Task.WaitAsync(_run.Options.Timeout);
            _worker.OpStarted = 0;
        }
        catch (TimeoutException)
        {
            Fail($"{Who}: not in {_run.Options.RoomName} within the timeout");
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            Fail(Tcp.Describe(ex, _worker, Who, "connecting"));
        }
    }

    /// <summary>Sends this user's next message line (called by the one sender loop; over TCP it completes at once).</summary>
    public async ValueTask SendLineAsync()
    {
        if (IsClosed)
        {
            return;
        }

        var n = ChatMessageLine.Write(_sendBuffer, _prefix, _id, ++_sequence, Stopwatch.GetTimestamp(), _run.Options.Size);
        try
        {
            await _link.SendAsync(_sendBuffer.AsMemory(0, n));
            Sent++;
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            Fail(Tcp.Describe(ex, _worker, Who, "sending"));
        }
    }

    /// <summary>A line of the protocol's own (a join, a PONG), sent from the receive loop without waiting for it.</summary>
    private void Send(string text)
    {
        var sending = _link.SendAsync(Encoding.UTF8.GetBytes(text));
        if (!sending.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(sending);
        }

        async Task ObserveAsync(ValueTask pending)
        {
            try
            {
                await pending;
            }
            catch (Exception ex) when (Connection.IsFailure(ex))
            {
                if (!_closing)
                {
                    Fail(Tcp.Describe(ex, _worker, Who, "sending"));
                }
            }
        }
    }

    private void Fail(string message)
    {
        if (!_closing)
        {
            _worker.Error(message);
        }

        _joined.TrySetException(new InvalidOperationException(message));
        IsClosed = true;
        _link.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            var closed = await _link.ReceiveLinesAsync(OnLine);
            if (!_closing)
            {
                Fail($"{Who}: {closed}");
            }
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
            if (!_closing)
            {
                Fail(Tcp.Describe(ex, _worker, Who, "reading"));
            }
        }

        IsClosed = true;
    }

    private void OnLine(ReadOnlySpan<byte> line)
    {
        if (Irc)
        {
            OnIrcLine(line);
            return;
        }

        if (line.StartsWith("<"u8))
        {
            var end = line.IndexOf("> "u8);
            if (end > 0)
            {
                OnMessage(line[(end + 2)..]);
            }
        }
        else if (line.StartsWith("*** You are now in "u8))
        {
            var rest = line["*** You are now in "u8.Length..];
            if (Ascii.EqualsIgnoreCase(rest[..Math.Min(rest.Length, _room.Length)], _room) && rest.Length > _room.Length && rest[_room.Length] == ' ')
            {
                _joined.TrySetResult();
            }
            else if (!_sawLobby)
            {
                _sawLobby = true;
                Send($"/join {_run.Options.RoomName}\r\n");
            }
        }
        else if (line.StartsWith("!!!"u8))
        {
            _worker.Error($"{Who}: the server said: {Encoding.UTF8.GetString(line)}");
        }
    }

    private void OnIrcLine(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("PING"u8))
        {
            Send($"PONG{Encoding.UTF8.GetString(line[4..])}\r\n");
            return;
        }

        if (line.StartsWith("ERROR"u8))
        {
            Fail($"{Who}: the server said: {Encoding.UTF8.GetString(line)}");
            return;
        }

        if (!line.StartsWith(":"u8))
        {
            return;
        }

        // ":prefix COMMAND params"; the command is the second word.
        var space = line.IndexOf((byte)' ');
        if (space < 0)
        {
            return;
        }

        var rest = line[(space + 1)..];
        if (rest.StartsWith("PRIVMSG "u8))
        {
            var text = rest.IndexOf(" :"u8);
            if (text > 0)
            {
                OnMessage(rest[(text + 2)..]);
            }
        }
        else if (rest.Length >= 4 && rest[3] == ' ' && Utf8Parser.TryParse(rest[..3], out int numeric, out _))
        {
            switch (numeric)
            {
                case 1:
                    Send($"JOIN {_run.Options.RoomName}\r\n");
                    break;
                case 366 when IsOurRoom(rest[4..]):
                    _joined.TrySetResult();
                    break;
                case 366:
                    break; // the end of another channel's names: a server may put its users in a channel first
                case 422:
                    break; // ERR_NOMOTD: a server without a message of the day says so, and clients go on
                case >= 400 and < 600:
                    Fail($"{Who}: the server said: {Encoding.UTF8.GetString(line)}");
                    break;
            }
        }
    }

    /// <summary>Whether "nick #room :…", the parameters of a 366, name this run's room.</summary>
    private bool IsOurRoom(ReadOnlySpan<byte> parameters)
    {
        var space = parameters.IndexOf((byte)' ');
        if (space < 0)
        {
            return false;
        }

        var channel = parameters[(space + 1)..];
        var end = channel.IndexOf((byte)' ');
        return Ascii.EqualsIgnoreCase(end < 0 ? channel : channel[..end], _room);
    }

    /// <summary>A message from another user: check it and count the delivery.</summary>
    private void OnMessage(ReadOnlySpan<byte> text)
    {
        var now = Stopwatch.GetTimestamp();
        if (!ChatMessageLine.TryRead(text, _users, _run.Options.Size, out var sender, out var seq, out var sentAt, out var mismatch))
        {
            if (mismatch is not null)
            {
                _worker.Mismatch($"{Who}: {mismatch}");
            }

            return; // a mismatch, or not one of ours (someone else in the room)
        }

        switch (_deliveries.Record(sender, seq))
        {
            case Delivery.Duplicate:
                Duplicates++;
                _run.NoteError($"{Who}: message {sender}/{seq} delivered twice");
                return;
            case Delivery.OutOfOrder:
                OutOfOrder++;
                break;
        }

        Volatile.Write(ref Delivered, Delivered + 1);
        if (_run.Measuring)
        {
            _worker.Ops++;
            _worker.Bytes += text.Length;
            _worker.Latency.RecordTicks(now - sentAt);
        }
    }

    public async Task CloseAsync()
    {
        _closing = true;
        if (!IsClosed)
        {
            try
            {
                if (Irc)
                {
                    Send("QUIT :done\r\n");
                }

                await _link.CloseAsync();
                // The server's answer (its close frame, or the end of the TCP stream) ends the receive loop.
                await _receiving.WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException || Connection.IsFailure(ex))
            {
            }
        }

        _link.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception ex) when (Connection.IsFailure(ex))
        {
        }
    }
}
