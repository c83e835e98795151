using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Echo;

public sealed class EchoEndToEndTests
{
    [Fact]
    public async Task Hundred_concurrent_clients_each_get_exactly_their_mebibyte_back()
    {
        await using var host = await TestHost.StartAsync();
        var endPoint = host.EndPoint();

        var clients = Enumerable.Range(0, 100).Select(async _ =>
        {
            var payload = new byte[1024 * 1024];
            Random.Shared.NextBytes(payload);
            using var socket = await SocketExtensions.ConnectAsync(endPoint);
            var receiving = socket.ReceiveToEndAsync(TestTimeouts.Long);
            await socket.SendAllAsync(payload);
            socket.Shutdown(SocketShutdown.Send);
            var echoed = await receiving;
            return payload.AsSpan().SequenceEqual(echoed);
        });

        var results = await Task.WhenAll(clients);

        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task Half_close_gets_everything_back_then_the_server_closes()
    {
        await using var host = await TestHost.StartAsync();
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        var payload = Encoding.ASCII.GetBytes("This is the message. It will be repeated.");

        await socket.SendAllAsync(payload);
        socket.Shutdown(SocketShutdown.Send);

        Assert.Equal(payload, await socket.ReceiveToEndAsync());
        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains("closed (closed by client)"));
        Assert.Equal((long)payload.Length, closed.State["BytesIn"]);
        Assert.Equal((long)payload.Length, closed.State["BytesOut"]);
    }

    [Fact]
    public async Task A_client_that_never_reads_is_throttled_while_others_are_served()
    {
        await using var host = await TestHost.StartAsync();
        using var greedy = await SocketExtensions.ConnectAsync(host.EndPoint());
        const long total = 256L * 1024 * 1024;
        long accepted = 0;
        using var stop = new CancellationTokenSource();

        var writing = Task.Run(async () =>
        {
            var chunk = new byte[64 * 1024];
            while (Interlocked.Read(ref accepted) < total)
            {
                await greedy.SendAsync(chunk, SocketFlags.None, stop.Token);
                Interlocked.Add(ref accepted, chunk.Length);
            }
        });

        // Wait until the writes stop being accepted: the count holds still for a while (bounded polling).
        var last = -1L;
        var stillFor = 0;
        for (var i = 0; i < 600 && stillFor < 8; i++)
        {
            await Task.Delay(250);
            var now = Interlocked.Read(ref accepted);
            stillFor = now == last ? stillFor + 1 : 0;
            last = now;
        }

        Assert.False(writing.IsCompleted, $"all {total} bytes were accepted without being read");
        Assert.InRange(Interlocked.Read(ref accepted), 1, 64L * 1024 * 1024);

        using var other = await SocketExtensions.ConnectAsync(host.EndPoint());
        await other.AssertEchoesAsync("still serving others\n");

        stop.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => writing);
    }

    [Fact]
    public async Task Idle_timeout_closes_a_silent_connection_and_logs_why()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:IdleTimeout"] = "00:00:01",
        });
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();

        Assert.True(await socket.WaitForServerCloseAsync());

        var timeout = await host.Logs.WaitForAsync(e => e.Message.Contains("(idle timeout)") && e.Message.Contains("idle for"));
        Assert.Equal(LogLevel.Information, timeout.Level);
        await host.Logs.WaitForAsync(e => e.Message.Contains("closed (idle timeout)"));
    }

    [Fact]
    public async Task Per_ip_limit_refuses_the_extra_connection_but_not_other_addresses()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:MaxConnectionsPerIp"] = "2",
        });
        var endPoint = host.EndPoint();
        using var first = await SocketExtensions.ConnectAsync(endPoint);
        using var second = await SocketExtensions.ConnectAsync(endPoint);
        await first.AssertEchoesAsync();
        await second.AssertEchoesAsync();

        using var third = await SocketExtensions.ConnectAsync(endPoint);
        Assert.True(await third.WaitForServerCloseAsync());
        var refusal = await host.Logs.WaitForAsync(e => e.Message.Contains("refused"));
        Assert.Equal(LogLevel.Information, refusal.Level);
        Assert.Contains("per-IP limit reached (MaxConnectionsPerIp = 2)", refusal.Message);

        using var fromElsewhere = await SocketExtensions.ConnectAsync(endPoint, from: IPAddress.Parse("127.0.0.2"));
        await fromElsewhere.AssertEchoesAsync();
        await first.AssertEchoesAsync();

        // A closed connection gives its slot back.
        var firstClient = first.LocalEndPoint!.ToString();
        first.Close();
        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed (") && e.State["RemoteEndPoint"]?.ToString() == firstClient);
        using var again = await SocketExtensions.ConnectAsync(endPoint);
        await again.AssertEchoesAsync();
    }

    [Fact]
    public async Task Max_connections_refuses_the_extra_connection()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Echo:MaxConnections"] = "1",
        });
        using var first = await SocketExtensions.ConnectAsync(host.EndPoint());
        await first.AssertEchoesAsync();

        using var second = await SocketExtensions.ConnectAsync(host.EndPoint(), from: IPAddress.Parse("127.0.0.3"));

        Assert.True(await second.WaitForServerCloseAsync());
        var refusal = await host.Logs.WaitForAsync(e => e.Message.Contains("refused"));
        Assert.Contains("connection limit reached (MaxConnections = 1)", refusal.Message);
        await first.AssertEchoesAsync();
    }

    [Fact]
    public async Task A_second_listener_from_configuration_works_with_its_own_settings()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Replica:Protocol"] = "Echo",
            ["EchoHost:Listeners:Replica:Port"] = "0",
            ["EchoHost:Listeners:Replica:Banner"] = "served by {host}",
            ["EchoHost:Listeners:Off:Protocol"] = "Echo",
            ["EchoHost:Listeners:Off:Port"] = "0",
            ["EchoHost:Listeners:Off:Enabled"] = "false",
        });
        Assert.NotEqual(host.EndPoint("Echo").Port, host.EndPoint("Replica").Port);

        using var plain = await SocketExtensions.ConnectAsync(host.EndPoint("Echo"));
        using var replica = await SocketExtensions.ConnectAsync(host.EndPoint("Replica"));
        var banner = Encoding.UTF8.GetBytes($"served by {Environment.MachineName}\r\n");

        Assert.Equal(banner, await replica.ReceiveExactlyAsync(banner.Length));
        await replica.AssertEchoesAsync("to the replica\n");
        await plain.AssertEchoesAsync("to the first\n");
        Assert.Throws<KeyNotFoundException>(() => host.EndPoint("Off"));
        var started = await host.Logs.WaitForAsync(e => e.Message.StartsWith("Listener Replica (echo) listening on 127.0.0.1:"));
        Assert.Equal(LogLevel.Information, started.Level);
    }

    [Fact]
    public async Task Stopping_the_host_closes_open_connections_gracefully()
    {
        var host = await TestHost.StartAsync();
        var sockets = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => SocketExtensions.ConnectAsync(host.EndPoint())));
        foreach (var socket in sockets)
        {
            await socket.AssertEchoesAsync();
        }

        await host.DisposeAsync();

        foreach (var socket in sockets)
        {
            Assert.Equal(0, await socket.ReceiveAsync(new byte[16], SocketFlags.None, TestTimeouts.Token()));
            socket.Dispose();
        }

        Assert.Equal(50, host.Logs.Entries.Count(e => e.Message.Contains("closed (server shutdown)")));
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Connection_lines_carry_the_scope_and_payloads_appear_only_at_verbose()
    {
        await using var host = await TestHost.StartAsync();
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync("This is the mess\n");
            socket.Shutdown(SocketShutdown.Send);
            await socket.ReceiveToEndAsync();
        }

        var accepted = await host.Logs.WaitForAsync(e => e.Message.Contains("accepted from"));
        var payload = await host.Logs.WaitForAsync(e => e.Message.StartsWith("received b'"));
        var closed = await host.Logs.WaitForAsync(e => e.Message.Contains("closed ("));

        // One access-log line per connection at Information, when it ends; the admission is Debug.
        Assert.Equal(LogLevel.Debug, accepted.Level);
        Assert.Equal(LogLevel.Information, closed.Level);
        var connectionId = accepted.Scope["ConnectionId"];
        Assert.Equal(connectionId, closed.State["ConnectionId"]);
        Assert.Single(host.Logs.Entries, e => e.Level >= LogLevel.Information
            && (Equals(e.Scope.GetValueOrDefault("ConnectionId"), connectionId) || Equals(e.State.GetValueOrDefault("ConnectionId"), connectionId)));
        Assert.Equal("Echo", accepted.Scope["Listener"]);
        Assert.False(string.IsNullOrEmpty(accepted.Scope["ConnectionId"] as string));
        Assert.StartsWith("127.0.0.1:", accepted.Scope["RemoteEndPoint"] as string);
        Assert.Equal(LogLevel.Trace, payload.Level);
        Assert.Equal(@"received b'This is the mess\n'", payload.Message);
        Assert.Equal(accepted.Scope["ConnectionId"], payload.Scope["ConnectionId"]);
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Information && e.Message.Contains("This is the mess"));
    }

    [Fact]
    public async Task Http_root_names_the_service_and_its_listeners()
    {
        await using var host = await TestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.HttpBase };

        var text = await http.GetStringAsync("/", TestTimeouts.Token());

        Assert.StartsWith($"EchoHost on {Environment.MachineName}: Echo (echo) on {host.EndPoint()}/tcp\n", text);
    }
}
