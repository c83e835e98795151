using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>The chat core as the unit tests use it: line-protocol clients that count nothing and log nothing.</summary>
internal static class TestChat
{
    /// <summary>A chat server on its own (<see cref="LocalChatBus"/>) or over <paramref name="bus"/>.</summary>
    public static ChatServer Server(ChatOptions options, TimeProvider time, IChatBus? bus = null) =>
        new(options, time, NullLogger.Instance, bus ?? new LocalChatBus(), new ChatRoomCounts());

    /// <summary>Connects a line-protocol client whose lines go to <paramref name="outbox"/>.</summary>
    public static ValueTask<ChatUser?> ConnectAsync(this ChatServer server, IChatOutbox outbox, IChatObserver? observer = null, string? from = null) =>
        server.ConnectAsync(new ChatSession(outbox, Renderer(server), observer ?? new NoChatCounts(), NoChatLog.Instance), from);

    /// <summary>One line renderer per options, shared by every client of a server, as in the host.</summary>
    public static ChatLineRenderer Renderer(ChatServer server) => Renderers.GetValue(server.Options, options => new ChatLineRenderer(options));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ChatOptions, ChatLineRenderer> Renderers = [];

    /// <summary>An activity log for tests that do not look at log lines.</summary>
    internal sealed class NoChatLog : IChatActivityLog
    {
        public static readonly NoChatLog Instance = new();

        public void NickChanged(string oldNick, string nick)
        {
        }

        public void Moved(string nick, string fromRoom, string room)
        {
        }

        public void TooManyRooms(string nick, string room, int maxRooms)
        {
        }

        public void Message(string nick, string room, string text)
        {
        }

        public void Private(string nick, string target, string text)
        {
        }

        public void PrivatesRefused(string nick, int limit)
        {
        }
    }
}
