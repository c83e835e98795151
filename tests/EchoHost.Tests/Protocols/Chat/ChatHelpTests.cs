using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary><c>/help</c> as a newcomer reads it: every command in the registry, <c>/help</c> itself included.</summary>
public sealed class ChatHelpTests
{
    [Fact]
    public async Task Help_lists_every_command_in_the_registry_help_included()
    {
        var server = TestChat.Server(new ChatOptions(), new ManualTime());
        var outbox = new LinesOutbox();
        var user = (await server.ConnectAsync(outbox, new NoChatCounts()))!;
        outbox.Lines.Clear();

        await server.HandleAsync(user, "/help");

        Assert.Contains("***   /help            list these commands", outbox.Lines);
        foreach (var command in ChatCommands.All)
        {
            Assert.Single(outbox.Lines, l => l.StartsWith($"***   {command.Syntax} ", StringComparison.Ordinal));
        }
    }
}
