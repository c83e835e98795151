using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Load;

/// <summary>
/// The chat mode's IRC dialect against a minimal IRC relay (so it is tested where InspIRCd is not installed; the
/// benchmark smoke runs it against InspIRCd where it is): registration, JOIN, PRIVMSG fan-out, a PING that must
/// be answered before the relay says 001, a 422 (no message of the day, as EchoHost may say) that is no error, and
/// the end of another channel's names list (EchoHost puts every user in #lobby first) that is not yet the room's.
/// </summary>
public sealed class IrcDialectTests
{
    [Fact]
    public async Task Chat_speaks_IRC_and_every_delivery_is_made_once()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var relay = new IrcRelay();
        _ = relay.ServeAsync(listener, stop.Token);

        var run = await LoadClientRun.RunAsync("chat", "--dialect", "irc", "--target", listener.LocalEndpoint.ToString()!, "--connections", "6", "--rate", "30", "--duration", "1", "--json");
        await stop.CancelAsync();

        run.AssertClean(minOps: 20);
        var chat = run.Json.GetProperty("chat");
        Assert.Equal(chat.GetProperty("expected").GetInt64(), chat.GetProperty("delivered").GetInt64());
        Assert.Equal(6, relay.Pongs);
    }

    private sealed class IrcRelay
    {
        private readonly ConcurrentDictionary<Socket, string> _joined = new();
        private int _pongs;

        public int Pongs => _pongs;

        public async Task ServeAsync(TcpListener listener, CancellationToken stop)
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptSocketAsync(stop);
                    _ = Task.Run(() => ClientAsync(client, stop), stop);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task ClientAsync(Socket client, CancellationToken stop)
        {
            using (client)
            {
                using var reader = new StreamReader(new NetworkStream(client), Encoding.UTF8);
                string? nick = null;
                try
                {
                    while (await reader.ReadLineAsync(stop) is { } line)
                    {
                        var word = line.Split(' ', 2);
                        switch (word[0])
                        {
                            case "NICK":
                                nick = word[1];
                                break;
                            case "USER":
                                Send(client, "PING :relay\r\n");
                                break;
                            case "PONG":
                                Interlocked.Increment(ref _pongs);
                                // Like EchoHost: no MOTD, and every user in #lobby (its names list) before the JOIN it asks for.
                                Send(client, $":relay 001 {nick} :Welcome\r\n:relay 422 {nick} :MOTD File is missing\r\n" +
                                    $":{nick}!u@h JOIN #lobby\r\n:relay 353 {nick} = #lobby :{nick}\r\n:relay 366 {nick} #lobby :End of /NAMES list.\r\n");
                                break;
                            case "JOIN":
                                // A slow JOIN widens the window in which a client that took #lobby's 366 for its room's
                                // would start sending, and miss lines, before everyone is in the room.
                                await Task.Delay(300, stop);
                                _joined[client] = nick!;
                                Send(client, $":{nick}!u@h JOIN {word[1]}\r\n:relay 353 {nick} = {word[1]} :{nick}\r\n:relay 366 {nick} {word[1]} :End of /NAMES list.\r\n");
                                break;
                            case "PRIVMSG":
                                foreach (var other in _joined.Keys.Where(s => s != client))
                                {
                                    Send(other, $":{nick}!u@h {line}\r\n");
                                }

                                break;
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    _joined.TryRemove(client, out _);
                }
            }
        }

        private static void Send(Socket socket, string text)
        {
            lock (socket)
            {
                try
                {
                    socket.Send(Encoding.UTF8.GetBytes(text));
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }
            }
        }
    }
}
