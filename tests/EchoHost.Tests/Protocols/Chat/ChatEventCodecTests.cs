using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>The text form of the events that cross instances and stay in the shared history.</summary>
public sealed class ChatEventCodecTests
{
    private static readonly ChatEvent[] Crossing =
    [
        ChatEvent.Message("lobby", "ana", "hola, ¿qué tal? \uFFFD <b> * [x]"),
        ChatEvent.Action("games", "bob", "waves"),
        ChatEvent.Joined("lobby", "carol"),
        ChatEvent.Left("lobby", "carol", "joined games"),
        ChatEvent.NickChanged("lobby", "guest-3", "dave"),
        ChatEvent.PrivateFrom("eve", "psst"),
        ChatEvent.Message("lobby", "ana", ""),
    ];

    public static TheoryData<int> CrossingEvents => [.. Enumerable.Range(0, Crossing.Length)];

    [Theory]
    [MemberData(nameof(CrossingEvents))]
    public void Every_event_that_crosses_instances_comes_back_as_it_was(int index)
    {
        var sent = Crossing[index];
        var text = ChatEventCodec.Encode(sent);

        Assert.Equal(sent, ChatEventCodec.Decode(text));
        Assert.DoesNotContain('\n', text);
    }

    [Theory]
    [InlineData("<ana> hola")]
    [InlineData("* ana waves")]
    [InlineData("*** ana left lobby (quit)")]
    [InlineData("[msg from ana] psst")]
    [InlineData("")]
    [InlineData("\u0001unknown\u001Fa\u001Fb")]
    [InlineData("\u0001msg\u001Ftoo few fields")]
    public void Lines_of_an_older_version_and_kinds_unknown_here_decode_verbatim(string line) =>
        Assert.Equal(ChatEvent.Verbatim(line), ChatEventCodec.Decode(line));

    [Fact]
    public void A_chat_user_cannot_forge_an_event_the_mark_and_separators_never_reach_a_message()
    {
        // The line decoder makes control characters visible (U+FFFD), so a message's text cannot hold the codec's.
        var lines = new List<ChatInput>();
        new ChatLineDecoder(2048).Decode(Encoding.UTF8.GetBytes("x\u0001msg\u001Flobby\u001Fadmin\u001Fhi\n"), lines);

        var text = Assert.Single(lines).Text!;
        Assert.DoesNotContain('\u0001', text);
        Assert.DoesNotContain('\u001F', text);
        Assert.Equal(ChatEvent.Message("lobby", "eve", text), ChatEventCodec.Decode(ChatEventCodec.Encode(ChatEvent.Message("lobby", "eve", text))));
    }

    [Fact]
    public void What_encoding_adds_to_a_message_fits_the_overhead_a_line_is_allowed()
    {
        var nick = new string('n', ChatNames.MaxLength);
        var room = new string('r', ChatNames.MaxLength);
        var text = new string('x', 100);

        foreach (var sent in new[] { ChatEvent.Message(room, nick, text), ChatEvent.Action(room, nick, text), ChatEvent.PrivateFrom(nick, text) })
        {
            var added = Encoding.UTF8.GetByteCount(ChatEventCodec.Encode(sent)) - text.Length;
            Assert.InRange(added, 1, ChatEventCodec.MaxOverheadBytes);
        }

        Assert.True(ChatEventCodec.MaxOverheadBytes <= ChatOptions.LineOverheadBytes);
    }
}
