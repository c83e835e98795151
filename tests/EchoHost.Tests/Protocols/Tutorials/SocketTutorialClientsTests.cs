using System.Net;
using System.Text;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Tutorials;

/// <summary>
/// The classic Python socket tutorials' clients (docs/tutorials/*.py, their logic as small scripts) against the real
/// host: the echo client on an echo listener, the UDP client on a UDP echo listener, and the lock-step chat client on
/// a chat listener with <c>Greeting: Minimal</c>, taking turns with a second user and ending on the server's <c>%end%</c>.
/// </summary>
public sealed class SocketTutorialClientsTests
{
    private static Task<TestHost> StartAsync() => TestHost.StartAsync(new Dictionary<string, string?>
    {
        ["EchoHost:Listeners:UdpEcho:Protocol"] = "UdpEcho",
        ["EchoHost:Listeners:UdpEcho:Port"] = "0",
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
        ["EchoHost:Listeners:Tutorial:Protocol"] = "Chat",
        ["EchoHost:Listeners:Tutorial:Port"] = "0",
        ["EchoHost:Listeners:Tutorial:Greeting"] = "Minimal",
    });

    private static string Script(string name) => Repository.Path($"docs/tutorials/{name}");

    private static string[] Arguments(string script, IPEndPoint endPoint) =>
        [Script(script), endPoint.Address.ToString(), endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    [ToolFact(ExternalTools.Python3)]
    public async Task The_echo_client_prints_its_echo()
    {
        await using var host = await StartAsync();

        var output = (await ExternalTools.RunAsync("python3", Arguments("echo_client.py", host.EndPoint("Echo")))).EnsureSuccess();

        Assert.Equal("Received b'Hello, world'\n", output);
    }

    [ToolFact(ExternalTools.Python3)]
    public async Task The_udp_echo_client_prints_the_answer()
    {
        await using var host = await StartAsync();
        var endPoint = host.UdpEndPoint("UdpEcho");

        var output = (await ExternalTools.RunAsync("python3", Arguments("udp_echo_client.py", endPoint))).EnsureSuccess();

        Assert.Equal($"Received b'Hello, UDP' from {endPoint.Address}:{endPoint.Port}\n", output);
    }

    [ToolFact(ExternalTools.Python3)]
    public async Task The_lock_step_chat_client_takes_turns_with_another_user_and_ends_on_the_servers_end_marker()
    {
        await using var host = await StartAsync();
        using var bob = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        await using var tutorial = InteractiveTool.Start("python3", Arguments("chat_client.py", host.EndPoint("Tutorial")));
        var joined = await bob.ReadLineAsync();
        Assert.Matches(@"^\*\*\* guest-\d+ joined lobby$", joined);
        var nick = joined["*** ".Length..joined.IndexOf(' ', "*** ".Length)];

        // One greeting line, then the client waits for its user: each side says one line in turn.
        await tutorial.WaitForTextAsync($"*** Welcome to EchoHost chat, {nick}! /help lists commands, %end% leaves.\n");
        await tutorial.WriteAsync("hello bob\n"u8.ToArray());
        Assert.Equal($"<{nick}> hello bob", await bob.ReadLineAsync());
        await bob.SendAsync("hi tutorial");
        await tutorial.WaitForTextAsync($"<{bob.Nick}> hi tutorial\n");
        await tutorial.WriteAsync("how are you?\n"u8.ToArray());
        Assert.Equal($"<{nick}> how are you?", await bob.ReadLineAsync());
        await bob.SendAsync("fine, bye");
        await tutorial.WaitForTextAsync($"<{bob.Nick}> fine, bye\n");

        // Its standard input stays open: it ends because it received %end%, not for want of input.
        await tutorial.WriteAsync("%end%\n"u8.ToArray());
        Assert.Equal(0, await tutorial.WaitForExitAsync().WaitAsync(TestTimeouts.Default));

        Assert.Equal(
            [
                $"*** Welcome to EchoHost chat, {nick}! /help lists commands, %end% leaves.",
                $"<{bob.Nick}> hi tutorial",
                $"<{bob.Nick}> fine, bye",
                $"*** Goodbye, {nick}!",
            ],
            Encoding.UTF8.GetString(tutorial.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Broken pipe", tutorial.Errors);
        Assert.Equal("", tutorial.Errors.Trim());
        Assert.Equal($"*** {nick} left lobby (quit)", await bob.ReadLineAsync());
    }
}
