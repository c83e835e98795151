using System.Text;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Protocols.Irc;

namespace EchoHost.Tests.Protocols.Irc;

/// <summary>The IRC pieces with no socket: parsing, framing, text, splitting and rendering.</summary>
public sealed class IrcUnitTests
{
    private static readonly IrcLines Lines = new("echohost");

    private static IrcRenderer Renderer(bool serverTime = false, bool echo = false) => new(Lines, new IrcWelcome(Lines, "EchoHost-test"), serverTime, echo);

    [Theory]
    [InlineData("PRIVMSG #lobby :hello there", "PRIVMSG", new[] { "#lobby", "hello there" })]
    [InlineData("@time=x;+typing=active :ana!u@h privmsg #a :b :c", "PRIVMSG", new[] { "#a", "b :c" })]
    [InlineData("  NICK   ana  ", "NICK", new[] { "ana" })]
    [InlineData("USER a 0 * :Real Name", "USER", new[] { "a", "0", "*", "Real Name" })]
    [InlineData("TOPIC #a :", "TOPIC", new[] { "#a", "" })]
    [InlineData("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "CMD", new[] { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15 16" })]
    public void Messages_parse_into_a_command_and_parameters(string line, string command, string[] parameters)
    {
        var message = IrcMessage.Parse(line)!;
        Assert.Equal(command, message.Command);
        Assert.Equal(parameters, message.Params);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("@tags-only")]
    [InlineData(":prefix.only")]
    public void A_line_with_no_command_parses_as_nothing(string line) => Assert.Null(IrcMessage.Parse(line));

    [Fact]
    public void The_decoder_frames_lf_crlf_and_cr_and_bounds_a_line_by_512_bytes_with_its_crlf()
    {
        var decoder = new IrcLineDecoder(512);
        var output = new List<ChatInput>();
        decoder.Decode("A\nB\r\nC\rD"u8, output);
        decoder.Decode(Encoding.ASCII.GetBytes(new string('x', 509) + "\r\n" + new string('y', 511) + "\r\n"), output);
        decoder.Complete(output);

        Assert.Equal([ChatInput.Line("A"), ChatInput.Line("B"), ChatInput.Line("C"), ChatInput.Line("D" + new string('x', 509)), ChatInput.TooLong], output);
    }

    [Fact]
    public void The_decoder_gives_tags_their_own_allowance_and_reports_a_runaway_line_once()
    {
        var decoder = new IrcLineDecoder(512);
        var output = new List<ChatInput>();
        var tagged = "@" + new string('t', 4000) + " PRIVMSG #a :" + new string('m', 400);
        decoder.Decode(Encoding.ASCII.GetBytes(tagged + "\r\n"), output);
        decoder.Decode(Encoding.ASCII.GetBytes(new string('z', 100_000)), output);
        decoder.Decode([0xFF, 0xFE, (byte)'\n', 0xC3, 0x28, (byte)'\n'], output);

        Assert.Equal([ChatInput.Line(tagged), ChatInput.TooLong, ChatInput.InvalidUtf8], output);
    }

    [Theory]
    [InlineData("\u0002bold\u0002 \u000304,12red\u0003 \u001funder\u001f\u000f", "bold red under")]
    [InlineData("\u00031,2x\u0003,5y", "x,5y")]
    [InlineData("\u0004ff00ffhex", "hex")]
    [InlineData("tab\tkept \u001b[2J", "tab\tkept \uFFFD[2J")]
    public void Formatting_is_removed_and_other_controls_made_visible(string text, string chat) => Assert.Equal(chat, IrcText.ToChat(text));

    [Fact]
    public void Ctcp_is_recognised_with_its_argument()
    {
        Assert.Equal(("ACTION", "waves hello"), IrcText.AsCtcp("\u0001ACTION waves hello\u0001"));
        Assert.Equal(("VERSION", ""), IrcText.AsCtcp("\u0001version\u0001"));
        Assert.Null(IrcText.AsCtcp("plain"));
    }

    [Fact]
    public void A_long_line_users_message_is_split_into_lines_of_at_most_512_bytes()
    {
        var text = string.Concat(Enumerable.Repeat("é€😀", 300));
        var lines = Renderer().Lines(ChatEvent.Message("lobby", "lina", text)).ToList();

        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.InRange(Encoding.UTF8.GetByteCount(l + "\r\n"), 1, 512));
        Assert.All(lines, l => Assert.StartsWith(":lina!~chat@echohost PRIVMSG #lobby :", l));
        Assert.Equal(text, string.Concat(lines.Select(l => l[":lina!~chat@echohost PRIVMSG #lobby :".Length..])));
    }

    [Fact]
    public void Leaving_for_another_room_is_a_part_and_leaving_the_chat_a_quit()
    {
        Assert.Equal([":ana!~chat@echohost PART #lobby :joined games"], Renderer().Lines(ChatEvent.Left("lobby", "ana", "joined games")));
        Assert.Equal([":ana!~chat@echohost QUIT :connection closed"], Renderer().Lines(ChatEvent.Left("lobby", "ana", "connection closed")));
    }

    [Fact]
    public void Private_echoes_and_history_follow_the_capabilities_of_the_renderer()
    {
        var toLina = ChatEvent.PrivateTo("lina", "hi", from: "ana");
        Assert.Empty(Renderer().Render(toLina));
        Assert.Equal([":ana!~chat@echohost PRIVMSG lina :hi"], Renderer(echo: true).Lines(toLina));

        var at = new DateTimeOffset(2026, 12, 7, 20, 1, 2, 345, TimeSpan.Zero);
        var remembered = ChatEvent.History(at, ChatEvent.Message("lobby", "lina", "earlier"));
        Assert.Equal(["@time=2026-12-07T20:01:02.345Z :lina!~chat@echohost PRIVMSG #lobby :earlier"], Renderer(serverTime: true).Lines(remembered));
        Assert.Equal([":echohost NOTICE #lobby :[20:01:02] <lina> earlier"], Renderer().Lines(remembered));
    }

    [Fact]
    public void A_private_action_is_a_ctcp_action_again_for_irc_users()
    {
        Assert.Equal([":ana!~chat@echohost PRIVMSG bob :\u0001ACTION waves\u0001"], Renderer().Lines(ChatEvent.PrivateFrom("ana", "* ana waves", to: "bob")));
        Assert.Equal([":ana!~chat@echohost PRIVMSG bob :* bob waves"], Renderer().Lines(ChatEvent.PrivateFrom("ana", "* bob waves", to: "bob")));
        Assert.Equal([":ana!~chat@echohost PRIVMSG bob :\u0001ACTION waves\u0001"], Renderer(echo: true).Lines(ChatEvent.PrivateTo("bob", "* ana waves", from: "ana")));
    }

    [Fact]
    public void Entering_a_room_parts_the_last_one_joins_and_gives_the_topic()
    {
        var topic = new ChatTopic("be kind", "lina", DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        Assert.Equal(
            [
                ":ana!~chat@echohost PART #lobby :joined games",
                ":ana!~chat@echohost JOIN #games",
                ":echohost 332 ana #games :be kind",
                ":echohost 333 ana #games lina!~chat@echohost :1800000000",
            ], Renderer().Lines(ChatEvent.Entering("games", "ana", "lobby", topic)));
        // Line users see nothing new: "You are now in" still comes after the history.
        Assert.Empty(new ChatLineRenderer(new ChatOptions()).Render(ChatEvent.Entering("games", "ana", "lobby", topic)));
    }

    [Fact]
    public void Topic_changes_cross_instances_in_the_codec()
    {
        var changed = ChatEvent.TopicChanged("lobby", "ana", "new topic");
        Assert.Equal(changed, ChatEventCodec.Decode(ChatEventCodec.Encode(changed)));
    }

    /// <summary>
    /// The answer to a client's own WHO or LIST is capped and never cuts the client as a slow reader: a WHO of a
    /// channel of thousands is more than a whole queue.
    /// </summary>
    [Fact]
    public void A_huge_query_answer_is_capped_and_never_overflows_the_askers_queue()
    {
        var outbox = new ChatOutbox(2 * IrcClient.ReplyBudget);
        var client = new IrcClient("c", outbox, Lines, null, 0);
        var who = Enumerable.Range(0, 5000).Select(i => Lines.Numeric("352", "*", "#lobby", "~chat", "echohost", "echohost", $"user{i}", "H", $"0 user{i}"));

        client.SendReply(who);
        client.SendReply(who);

        Assert.False(outbox.HasOverflowed);
        Assert.InRange(outbox.QueuedBytes, IrcClient.ReplyBudget, IrcClient.ReplyBudget + 512);
    }
}
