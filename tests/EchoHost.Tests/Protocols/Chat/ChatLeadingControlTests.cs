using System.Text;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// A stray control character typed before a line (Ctrl+L in telnet before <c>/join games</c>) does not change what the
/// line is: leading C0 controls, DEL and C1 controls are dropped, after telnet's own commands are taken out.
/// </summary>
public sealed class ChatLeadingControlTests
{
    private const byte Iac = 255, Do = 253;

    private static List<string?> Decode(byte[] bytes)
    {
        var output = new List<ChatInput>();
        new ChatLineDecoder(2048).Decode(bytes, output);
        return output.Select(i => i.Kind == ChatInputKind.Line ? i.Text : i.Kind.ToString()).ToList();
    }

    [Theory]
    [InlineData("\f/join games", "/join games")] // Ctrl+L
    [InlineData("\u0001\u001b\u007f/help", "/help")] // Ctrl+A, Esc, DEL
    [InlineData("\f%end%", "%end%")]
    [InlineData("\f  hello", "  hello")] // the spaces were typed: a message keeps them
    [InlineData(" \f/who", " /who")] // controls among leading blanks count as leading too
    [InlineData("\t\f/who", "\t/who")]
    [InlineData("\f\u001b\u007f", "")] // only controls: an empty line, which the chat ignores
    [InlineData("\u009b/join games", "/join games")] // C1 CSI, which some terminals send for Esc [
    [InlineData("\u0085\u0080\u009f%end%", "%end%")] // NEL and the first and last C1 controls
    [InlineData(" \u0090/who", " /who")]
    [InlineData("\u00a0/who", "\u00a0/who")] // a no-break space is not a control: the line is a message, as typed
    [InlineData("a\u009bb", "a\uFFFDb")] // further in, a C1 control is made visible like a C0 one
    [InlineData("a\u0007b", "a\uFFFDb")] // further in, a control is still made visible
    public void Leading_control_characters_are_dropped(string sent, string decoded) =>
        Assert.Equal([decoded], Decode(Encoding.UTF8.GetBytes(sent + "\n")));

    [Fact]
    public void Controls_after_a_telnet_command_at_the_start_are_leading_too() =>
        Assert.Equal(["/join games"], Decode([Iac, Do, 1, (byte)'\f', .. "/join games\r\n"u8]));

    [Fact]
    public async Task Ctrl_l_before_a_command_over_telnet_runs_the_command_instead_of_broadcasting_it()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
        });
        using var ana = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        using var bob = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal($"*** {bob.Nick} joined lobby", await ana.ReadLineAsync());

        await bob.SendRawAsync([(byte)'\f', .. "/join games\r\n"u8]);

        Assert.Equal($"*** {bob.Nick} left lobby (joined games)", await ana.ReadLineAsync());
        await bob.ReadUntilAsync(l => l.StartsWith("*** You are now in games", StringComparison.Ordinal));

        // Nothing was stored either: a newcomer to the lobby is greeted without it.
        using var eve = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.DoesNotContain(eve.Greeting, l => l.Contains("/join games", StringComparison.Ordinal));
    }
}
