using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>
/// The confusables table as the chat core reads it from its embedded resource (Unicode's confusables.txt, version
/// 13.0.0, as Ergo ships it): every mapping, and a few known ones.
/// </summary>
public sealed class ChatConfusablesTests
{
    [Fact]
    public void The_table_has_every_mapping_of_the_resource() =>
        Assert.Equal(6311, ChatConfusables.Map.Count);

    [Theory]
    [InlineData(0x30, "O")] // digit zero
    [InlineData(0x31, "l")] // digit one
    [InlineData(0x49, "l")] // capital I
    [InlineData(0x6D, "rn")] // m
    [InlineData(0x22, "''")] // a double quote is two single ones
    [InlineData(0x25, "\u00BA/\u2080")] // the first line with three targets
    [InlineData(0x430, "a")] // Cyrillic a
    [InlineData(0xFF41, "a")] // fullwidth a
    [InlineData(0x1D5BA, "a")] // mathematical sans-serif a, outside the BMP
    [InlineData(0x2FA1D, "\U0002A600")] // the last line: both sides outside the BMP
    public void Known_mappings_are_loaded(int source, string prototype) =>
        Assert.Equal(prototype, ChatConfusables.Map[source]);

    [Fact]
    public void The_longest_prototype_is_whole() => // eighteen code points: the Arabic ligature U+FDFA
        Assert.Equal("\u0635\u0644\u0649 l\u0644\u0644o \u0639\u0644\u0649o \u0648\u0633\u0644\u0645", ChatConfusables.Map[0xFDFA]);

    [Fact]
    public void Letters_that_look_like_nothing_else_are_not_in_the_table()
    {
        Assert.False(ChatConfusables.Map.ContainsKey('a'));
        Assert.False(ChatConfusables.Map.ContainsKey('l'));
        Assert.False(ChatConfusables.Map.ContainsKey('O'));
    }

    [Fact]
    public void Comment_and_blank_lines_are_skipped()
    {
        var map = ChatConfusables.Parse("# a comment\n\n41;61 62\r\n  1F600;1F642  \n");

        Assert.Equal(2, map.Count);
        Assert.Equal("ab", map['A']);
        Assert.Equal("\U0001F642", map[0x1F600]);
    }

    [Fact]
    public void A_line_without_a_separator_is_an_error() =>
        Assert.Throws<InvalidDataException>(() => ChatConfusables.Parse("41 61\n"));
}
