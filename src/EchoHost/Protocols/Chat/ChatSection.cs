using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat;

/// <summary><c>EchoHost:Chat</c>, the chat's own section of the configuration (a <see cref="ChatOptions"/>).</summary>
internal static class ChatSection
{
    public const string Key = "Chat";

    public static ProtocolSection Section { get; } = new(Key, typeof(ChatOptions));

    /// <summary>The chat's options as configured, or the defaults when the section is absent.</summary>
    public static ChatOptions Chat(this EchoHostOptions options) => options.Sections.Get<ChatOptions>(Key);
}
