using System.Net;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// The runtime's inline socket completions, seen from outside as thread-pool work items, counted by the runtime's own
/// meter on /metrics. An echo listener's connections have them, socket by socket (Transport/InlineSocketListener): a
/// message is received, echoed and sent on the socket engine's thread, with no work item at all. Every other socket
/// of the process keeps the runtime's default, as shipped: with the process-wide switch on, every socket
/// continuation, a dependency's too (Npgsql's synchronous cancel request, issue 26), would run on the socket engine's
/// few threads, and one that blocks would stall every connection. So the HTTP endpoint's requests cost as many work
/// items as with the setting off; a value set in the environment is the user's, and still honoured. And
/// <c>EchoHost:SocketThreads=false</c> puts the echo listener back on Kestrel's default transport.
/// </summary>
public sealed class SocketCompletionsTests
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private const int Messages = 3000;

    private const int Requests = 1000;

    [Fact]
    public async Task Echo_connections_run_on_the_socket_engine_unless_configured_off_while_other_sockets_keep_the_runtime_default_unless_the_environment_changes_it()
    {
        var shipped = await WorkItemsAsync(new Dictionary<string, string>());
        var off = await WorkItemsAsync(new Dictionary<string, string> { [Variable] = "0" });
        var on = await WorkItemsAsync(new Dictionary<string, string> { [Variable] = "1" });
        var kestrels = await WorkItemsAsync(new Dictionary<string, string>(), "--EchoHost:SocketThreads=false");

        // Counts, not times. An echoed message costs no work item (the rare one is the budget's turn, one in 1,024 reads
        // at most); off, an HTTP request's receive completion is a work item of its own before the handler's, inline it
        // is not: about one per request, whatever the machine's speed.
        var figures = $"thread-pool work items per echoed message: {shipped.Echo:F2} as shipped, {off.Echo:F2} with {Variable}=0, {on.Echo:F2} with {Variable}=1; " +
            $"per HTTP request: {shipped.Http:F2}, {off.Http:F2}, {on.Http:F2}; with EchoHost:SocketThreads=false {kestrels.Echo:F2} per echoed message";
        Assert.True(shipped.Echo < 0.25 && off.Echo < 0.25, figures);
        // Kestrel's default transport: the receive completion, then the handler, then the send, each a work item.
        Assert.True(kestrels.Echo >= 1, figures);
        Assert.True(Math.Abs(off.Http - shipped.Http) < 0.5, figures);
        Assert.True(shipped.Http - on.Http >= 0.5, figures);
    }

    private static async Task<(double Echo, double Http)> WorkItemsAsync(Dictionary<string, string> environment, params string[] args)
    {
        await using var process = HostProcess.Start([.. HostProcess.LoopbackPortZero, .. args], environment);
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

        var afterEcho = await WorkItemsAsync(client);
        for (var i = 0; i < Requests; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }

        var afterHttp = await WorkItemsAsync(client);

        // The metrics request between the two counts is one request too.
        return ((afterEcho - before) / Messages, (afterHttp - afterEcho - 1) / (Requests + 1));
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
