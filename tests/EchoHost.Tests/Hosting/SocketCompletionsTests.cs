using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Hosting;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// The binary turns on the runtime's inline socket completions for itself (Hosting/SocketCompletions): the socket
/// engine's thread finishes each receive and send instead of posting it to the thread pool. Seen from outside as
/// fewer thread-pool work items per echoed message, counted by the runtime's own meter on /metrics.
/// </summary>
public sealed class SocketCompletionsTests
{
    private const int Messages = 3000;

    [Fact]
    public async Task The_shipped_binary_echoes_with_fewer_thread_pool_work_items_per_message_unless_the_environment_turns_inline_completions_off()
    {
        var shipped = await WorkItemsPerMessageAsync(new Dictionary<string, string>());
        var off = await WorkItemsPerMessageAsync(new Dictionary<string, string> { [SocketCompletions.Variable] = "0" });

        // Off, every receive completion is a work item of its own before the handler's; inline, it is not. The
        // difference is about one per message, whatever the machine's speed (a count, not a time).
        Assert.True(off - shipped >= 0.5, $"thread-pool work items per echoed message: {shipped:F2} as shipped, {off:F2} with {SocketCompletions.Variable}=0");
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
