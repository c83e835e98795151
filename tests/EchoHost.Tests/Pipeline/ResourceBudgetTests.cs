using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EchoHost.Tests.Pipeline;

/// <summary>
/// The process-wide budgets, on the built binary with its shipped settings: memory (with the GC heap capped, as in a
/// container) and file descriptors (with <c>prlimit</c>). One address must not be able to kill or wedge the host.
/// </summary>
[Collection(nameof(ResourceBudgetTests))]
public sealed class ResourceBudgetTests(ITestOutputHelper output)
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    /// <summary>A descriptor limit the host starts under (it opens about 250 at start) that its connection caps exceed.</summary>
    private static readonly string[] LowDescriptorLimit = ["prlimit", "--nofile=640:640", "--"];

    [Fact]
    public async Task Non_reading_echo_clients_from_one_address_are_refused_for_memory_and_the_host_survives()
    {
        const int perIp = 600;
        await using var server = await CampaignServer.StartAsync(new Dictionary<string, string>
        {
            ["DOTNET_GCHeapHardLimit"] = "0x4000000", // 64 MiB
            // A budget of 25 MiB: about a hundred non-readers reach it, where a 64 MiB heap without one died at 25.
            ["EchoHost__MemoryBudgetPercent"] = "40",
            ["EchoHost__Listeners__Echo__MaxConnectionsPerIp"] = perIp.ToString(),
        });
        var idle = await server.WarmUpAsync();

        var held = new List<System.Net.Sockets.Socket>();
        var refused = 0;
        while (refused == 0 && held.Count < perIp && !server.Process.HasExited)
        {
            var batch = await Exhaustion.OpenNonReadersAsync(server.Echo, Attacker, 25);
            held.AddRange(batch.Held);
            refused += batch.Closed;
        }

        output.WriteLine($"idle: {idle}; {held.Count} non-readers held, {refused} refused: " +
            (server.Process.HasExited ? "exited" : ProcessStats.Of(server.Process.Id).ToString()));
        Assert.False(server.Process.HasExited, $"EchoHost died with {held.Count} non-readers:\n{server.Process.StandardError}");
        Assert.True(refused > 0, $"{held.Count} non-readers were all admitted");
        output.WriteLine((await server.Process.WaitForOutputAsync(new Regex(@"Memory budget reached: .* refusing new connections.*"))).Value);

        held.ForEach(s => s.Dispose());
        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Default), "no echo once the non-readers left");
        var metrics = PrometheusSamples.Parse(await server.MetricsTextAsync());
        Assert.True(metrics.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "memory")) > 0);
        output.WriteLine((await server.Process.WaitForOutputAsync(new Regex(@"Memory back under budget.*"))).Value);
    }

    [Fact]
    public async Task Non_readers_admitted_while_memory_was_low_are_cut_as_slow_readers_once_they_fill_it()
    {
        await using var server = await CampaignServer.StartAsync(new Dictionary<string, string>
        {
            // 96 MiB, a budget of a quarter (24 MiB): the non-readers can push about twice the budget, and that with
            // the host's own baseline still fits the heap (with 64 MiB and 40 %, a larger host ran out of memory).
            ["DOTNET_GCHeapHardLimit"] = "0x6000000",
            ["EchoHost__MemoryBudgetPercent"] = "25",
            ["EchoHost__Listeners__Echo__MaxConnectionsPerIp"] = "600",
        });
        await server.WarmUpAsync();

        // All connect while memory is low (every one admitted), then all push: about twice the budget, within the heap.
        var (held, _) = await Exhaustion.OpenNonReadersAsync(server.Echo, Attacker, 300);
        try
        {
            output.WriteLine((await server.Process.WaitForOutputAsync(new Regex(@"closing \d+ whose clients have not read.*"), TestTimeouts.Default)).Value);
            Assert.False(server.Process.HasExited, $"EchoHost died:\n{server.Process.StandardError}");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }

        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Default), "no echo once the non-readers were cut");
        Assert.DoesNotContain("Out of memory", server.Process.StandardError);
    }

    [Fact]
    public async Task Idle_http_connections_from_one_address_are_capped_and_echo_and_healthz_still_answer()
    {
        await using var server = await CampaignServer.StartAsync(launcher: LowDescriptorLimit);
        await server.WarmUpAsync();

        var (open, refused) = await Exhaustion.OpenIdleUntilRefusedAsync(new IPEndPoint(IPAddress.Loopback, server.HttpBase.Port), Attacker, 600);
        output.WriteLine($"{open.Count} idle HTTP connections open, refused: {refused}; {ProcessStats.Of(server.Process.Id)}");
        try
        {
            Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TimeSpan.FromSeconds(10)), "echo stopped answering");
            Assert.True(await Exhaustion.HttpAnswersWithinAsync(server.HttpBase, "healthz", TimeSpan.FromSeconds(10)), "/healthz stopped answering");
            Assert.True(refused, $"{open.Count} idle HTTP connections from one address were all admitted");
            var metrics = PrometheusSamples.Parse(await server.MetricsTextAsync());
            Assert.True(metrics.Value("echohost_connections_refused_total", ("echohost_listener", "Http"), ("reason", "per_ip")) > 0);
            await server.Process.WaitForOutputAsync(new Regex(@"Http refused 127\.0\.0\.2:\d+: per-IP limit reached"));
        }
        finally
        {
            open.ForEach(s => s.Dispose());
        }

        Assert.True(await Exhaustion.HttpAnswersWithinAsync(server.HttpBase, "healthz", TestTimeouts.Default));
        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Default));
    }

    [Fact]
    public async Task Near_the_descriptor_limit_new_connections_are_refused_and_open_ones_still_served()
    {
        await using var server = await CampaignServer.StartAsync(launcher: LowDescriptorLimit);
        await server.Process.WaitForOutputAsync(new Regex(@"open-file limit .*640.* raise"));
        await server.WarmUpAsync();

        var (open, refused) = await Exhaustion.OpenIdleUntilRefusedAsync(server.Echo, Attacker, 600);
        output.WriteLine($"{open.Count} idle echo connections open, refused: {refused}; {ProcessStats.Of(server.Process.Id)}");
        try
        {
            Assert.True(refused, $"{open.Count} idle echo connections were all admitted");
            await server.Process.WaitForOutputAsync(new Regex(@"Descriptor budget reached: .* refusing new connections"));
            // The connections it has are still served.
            open[0].Blocking = true;
            await open[0].AssertEchoesAsync();
            await open[^1].AssertEchoesAsync();
        }
        finally
        {
            open.ForEach(s => s.Dispose());
        }

        Assert.True(await Exhaustion.EchoAnswersWithinAsync(server.Echo, TestTimeouts.Default), "no echo once the idle connections closed");
        var metrics = PrometheusSamples.Parse(await server.MetricsTextAsync());
        Assert.True(metrics.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "descriptors")) > 0);
    }
}
