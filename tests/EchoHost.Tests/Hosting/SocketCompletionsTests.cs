using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// EchoHost leaves the runtime's inline socket completions off: with them, every socket continuation of the process,
/// a dependency's too (Npgsql's synchronous cancel request, issue 26), runs on the socket engine's few threads, and
/// one that blocks stalls every connection. Seen from outside as thread-pool work items per echoed message, counted
/// by the runtime's own meter on /metrics: as shipped, the same as with the setting off; a value set in the
/// environment is the user's, and still honoured.
/// </summary>
public sealed class SocketCompletionsTests
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private const int Messages = 3000;

    [Fact]
    public async Task The_shipped_binary_leaves_inline_socket_completions_off_unless_the_environment_turns_them_on()
    {
        var shipped = await WorkItemsPerMessageAsync(new Dictionary<string, string>());
        var off = await WorkItemsPerMessageAsync(new Dictionary<string, string> { [Variable] = "0" });
        var on = await WorkItemsPerMessageAsync(new Dictionary<string, string> { [Variable] = "1" });

        // Off, every receive completion is a work item of its own before the handler's; inline, it is not. The
        // difference is about one per message, whatever the machine's speed (a count, not a time).
        var figures = $"thread-pool work items per echoed message: {shipped:F2} as shipped, {off:F2} with {Variable}=0, {on:F2} with {Variable}=1";
        Assert.True(Math.Abs(off - shipped) < 0.5, figures);
        Assert.True(shipped - on >= 0.5, figures);
    }

    private static async Task<double> WorkItemsPerMessageAsync(Dictionary<string, string> environment)
    {
        await using var process = HostProcess.Start(HostProcess.LoopbackPortZero, environment);
        var echoPort = await process.ListenerPortAsync("Echo");
        var http = await process.WaitForOutputAsync(new Regex(@"HTTP endpoint listening on (?<endpoint>\S+)"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://{http.Groups["endpoint"].Value}") };

        using var socket = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, echoPort));
        var message = new byte[64];
        Random.Shared.NextBytes(message);
        await socket.SendAllAsync(message);
        Assert.Equal(message, await socket.ReceiveExactlyAsync(message.Length));

        var before = await WorkItemsAsync(client);
        for (var i = 0; i < Messages; i++)
        {
            await socket.SendAllAsync(message);
            Assert.Equal(message, await socket.ReceiveExactlyAsync(message.Length));
        }

        var after = await WorkItemsAsync(client);
        return (after - before) / Messages;
    }

    private static async Task<double> WorkItemsAsync(HttpClient client)
    {
        var samples = PrometheusSamples.Parse(await client.GetStringAsync("/metrics")).All
            .Where(s => s.Name == "dotnet_thread_pool_work_item_count_total")
            .ToList();
        Assert.Single(samples);
        return samples[0].Value;
    }
}
