using EchoHost.Tests.Infrastructure;
using System.Net;
using EchoHost.Baseline;

namespace EchoHost.Tests.Load;

/// <summary>Every mode of echohost-load for a second against the real EchoHost (in-process, port 0) and against the bare baseline.</summary>
public sealed class LoadModesTests
{
    private static Dictionary<string, string?> AllListeners() => new()
    {
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
        ["EchoHost:Listeners:UdpEcho:Protocol"] = "UdpEcho",
        ["EchoHost:Listeners:UdpEcho:Port"] = "0",
    };

    // Short runs; udp is paced below EchoHost's per-source rate limit so that no datagram is (rightly) dropped.
    public static TheoryData<string, string[]> TcpModes => new()
    {
        { "pingpong", ["--connections", "4", "--size", "100"] },
        { "pingpong", ["--connections", "2", "--size", "70000"] },
        { "stream", ["--connections", "2", "--size", "64k"] },
        { "churn", ["--connections", "4"] },
        { "hold", ["--connections", "300", "--sources", "127.0.0.2-127.0.0.4"] },
    };

    [Theory]
    [MemberData(nameof(TcpModes))]
    public async Task Tcp_modes_against_EchoHost_verify_every_byte_without_errors(string mode, string[] options)
    {
        await using var host = await TestHost.StartAsync(AllListeners());
        var run = await LoadClientRun.RunAsync([mode, "--target", host.EndPoint().ToString(), "--duration", "1", "--json", .. options]);
        run.AssertClean(minOps: mode == "hold" ? 300 : 10);
        Assert.True(run.Number("bytes") > 0 || mode == "hold", run.ToString());
    }

    [Theory]
    [MemberData(nameof(TcpModes))]
    public async Task Tcp_modes_against_the_bare_baseline_verify_every_byte_without_errors(string mode, string[] options)
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var run = await LoadClientRun.RunAsync([mode, "--target", server.EndPoint.ToString(), "--duration", "1", "--json", .. options]);
        run.AssertClean(minOps: mode == "hold" ? 300 : 10);
    }

    [Fact]
    public async Task Udp_against_EchoHost_and_the_baseline_loses_nothing()
    {
        await using var host = await TestHost.StartAsync(AllListeners());
        using var baseline = UdpEchoServer.Start(new IPEndPoint(IPAddress.Loopback, 0));
        foreach (var target in new[] { host.UdpEndPoint(), baseline.EndPoint })
        {
            var run = await LoadClientRun.RunAsync("udp", "--target", target.ToString(), "--connections", "4", "--rate", "2000", "--duration", "1", "--json");
            run.AssertClean(minOps: 100);
            Assert.Equal(0, run.Number("lost"));
        }
    }

    [Fact]
    public async Task Udp_losses_at_a_servers_per_source_limit_name_that_limit()
    {
        var settings = AllListeners();
        settings["EchoHost:Listeners:UdpEcho:PerSourceDatagramsPerSecond"] = "100";
        await using var host = await TestHost.StartAsync(settings);

        var run = await LoadClientRun.RunAsync("udp", "--target", host.UdpEndPoint().ToString(), "--connections", "2", "--rate", "1000", "--duration", "1", "--timeout", "200ms");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("result       FAILED", run.Output);
        Assert.Contains("PerSourceDatagramsPerSecond", run.Output);
    }

    [Fact]
    public async Task The_progress_line_shows_the_warmups_own_operations()
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));

        var run = await LoadClientRun.RunAsync("pingpong", "--target", server.EndPoint.ToString(), "--connections", "2", "--warmup", "2.5", "--duration", "1", "--progress", "--json");

        run.AssertClean();
        var warmup = run.Error.Split('\r').Where(l => l.Contains("(warm-up)", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(warmup);
        Assert.All(warmup, l => Assert.Matches(@"\(warm-up\)\s+[\d,]+ ops/s\s+[1-9][\d,]* ops", l));
    }

    [Fact]
    public async Task Count_runs_exactly_that_many_operations()
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var run = await LoadClientRun.RunAsync("pingpong", "--target", server.EndPoint.ToString(), "--connections", "3", "--count", "500", "--json");
        run.AssertClean();
        Assert.Equal(500, run.Number("ops"));
        Assert.Equal(500, run.Json.GetProperty("latency").GetProperty("samples").GetInt64());
    }

    [Fact]
    public async Task Chat_with_20_users_on_EchoHost_makes_every_delivery_exactly_once()
    {
        await using var host = await TestHost.StartAsync(AllListeners());
        // 20 users, 2 lines/s each: within the shipped flood control (5 lines/s, burst 20).
        var run = await LoadClientRun.RunAsync("chat", "--target", host.EndPoint("Chat").ToString(), "--connections", "20", "--rate", "40", "--duration", "1.5", "--json");
        run.AssertClean(minOps: 100);
        var chat = run.Json.GetProperty("chat");
        Assert.True(chat.GetProperty("linesSent").GetInt64() >= 20, run.ToString());
        Assert.Equal(chat.GetProperty("linesSent").GetInt64() * 19, chat.GetProperty("expected").GetInt64());
        Assert.Equal(chat.GetProperty("expected").GetInt64(), chat.GetProperty("delivered").GetInt64());
        Assert.Equal(0, chat.GetProperty("missing").GetInt64());
        Assert.Equal(0, chat.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, chat.GetProperty("outOfOrder").GetInt64());
    }

    [Fact]
    public async Task Chat_over_the_shipped_flood_limit_reports_missing_deliveries_and_fails()
    {
        await using var host = await TestHost.StartAsync(AllListeners());
        // 2 users at 40 lines/s each: after the burst of 20, flood control drops lines, and the client must notice.
        var run = await LoadClientRun.RunAsync("chat", "--target", host.EndPoint("Chat").ToString(), "--connections", "2", "--rate", "80", "--duration", "1", "--timeout", "1", "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.True(run.Json.GetProperty("chat").GetProperty("missing").GetInt64() > 0, run.ToString());
    }

    [Fact]
    public async Task Chat_in_another_room_joins_it_first()
    {
        await using var host = await TestHost.StartAsync(AllListeners());
        var run = await LoadClientRun.RunAsync("chat", "--target", host.EndPoint("Chat").ToString(), "--connections", "5", "--room", "games", "--rate", "10", "--duration", "1", "--json");
        run.AssertClean(minOps: 10);
        Assert.Equal(0, run.Json.GetProperty("chat").GetProperty("missing").GetInt64());
    }

    [Fact]
    public async Task Progress_shows_ops_per_second_on_stderr_while_it_runs()
    {
        await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var run = await LoadClientRun.RunAsync("pingpong", "--target", server.EndPoint.ToString(), "--duration", "1.6", "--progress");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"pingpong +\d+\.\ds +[\d,]+ ops/s +[\d,]+ ops  errors 0  mismatches 0", run.Error);
    }
}
