using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary><c>/help</c> as a newcomer reads it: every command in the registry, <c>/help</c> itself included.</summary>
public sealed class ChatHelpTests
{
    [Fact]
    public void Help_lists_every_command_in_the_registry_help_included()
    {
        var server = new ChatServer(new ChatOptions(), new ManualTime(), NullLogger<ChatServer>.Instance);
        var outbox = new LinesOutbox();
        var user = server.Connect("c", "Chat", outbox, new NoChatCounts())!;
        outbox.Lines.Clear();

        server.Handle(user, "/help");

        Assert.Contains("***   /help            list these commands", outbox.Lines);
        foreach (var command in ChatCommands.All)
        {
            Assert.Single(outbox.Lines, l => l.StartsWith($"***   {command.Syntax} ", StringComparison.Ordinal));
        }
    }
}
