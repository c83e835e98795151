using EchoHost.Chat;

namespace EchoHost.Tests.Chat;

public sealed class ChatCommandTests
{
    [Theory]
    [InlineData("hola a todos", "Say", "hola a todos", "")]
    [InlineData("  spaced  ", "Say", "  spaced  ", "")]
    [InlineData("%end%", "Quit", "", "")]
    [InlineData(" %end% ", "Quit", "", "")]
    [InlineData("/quit", "Quit", "", "")]
    [InlineData("/QUIT see you", "Quit", "see you", "")]
    [InlineData("/nick ana", "Nick", "ana", "")]
    [InlineData("/nick", "Usage", "/nick NAME", "")]
    [InlineData("/nick two words", "Usage", "/nick NAME", "")]
    [InlineData("/join games", "Join", "games", "")]
    [InlineData("/join", "Usage", "/join ROOM", "")]
    [InlineData("/who", "Who", "", "")]
    [InlineData("/rooms", "Rooms", "", "")]
    [InlineData("/help", "Help", "", "")]
    [InlineData("/msg bob hi there", "Msg", "bob", "hi there")]
    [InlineData("/msg bob", "Usage", "/msg NICK TEXT", "")]
    [InlineData("/msg bob   ", "Usage", "/msg NICK TEXT", "")]
    [InlineData("/me waves", "Me", "waves", "")]
    [InlineData("/me", "Usage", "/me ACTION", "")]
    [InlineData("/frobnicate now", "Unknown", "/frobnicate", "")]
    [InlineData("//not a command", "Say", "/not a command", "")]
    [InlineData("%end% please", "Say", "%end% please", "")]
    public void Parses_lines(string line, string kind, string argument, string text)
    {
        var command = ChatCommand.Parse(line);

        Assert.Equal(kind, command.Kind.ToString());
        Assert.Equal(argument, command.Argument);
        Assert.Equal(text, command.Text);
    }

    [Theory]
    [InlineData("ana", null)]
    [InlineData("A.n-a_9", null)]
    [InlineData("abcdefghijklmnopqrstuvwx", null)]
    [InlineData("abcdefghijklmnopqrstuvwxy", "a nick has 1 to 24 characters")]
    [InlineData("", "a nick has 1 to 24 characters")]
    [InlineData("ana!", "a nick may only contain letters, digits, '_', '-' and '.'")]
    [InlineData("ñandú", "a nick may only contain letters, digits, '_', '-' and '.'")]
    public void Name_rules(string name, string? problem) => Assert.Equal(problem, ChatNames.Problem(name, "nick"));

    [Theory]
    [InlineData("server")]
    [InlineData("SERVER")]
    [InlineData("Admin")]
    [InlineData("echohost")]
    public void Reserved_nicks_are_reserved_in_any_case(string nick) => Assert.True(ChatNames.IsReservedNick(nick));
}
