using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

public sealed class BackplanePayloadTests
{
    private static readonly string Instance = Guid.NewGuid().ToString("N");

    [Fact]
    public void A_payload_round_trips_unescaped()
    {
        var line = "<ana> \"quoted\" \\ back | pipe \uFFFD €";
        var payload = BackplanePayload.Format(Instance, PayloadKind.RoomMessage, "Games.1", line);

        Assert.True(BackplanePayload.TryParse(payload, out var parsed));
        Assert.Equal(new BackplanePayload(Instance, PayloadKind.RoomMessage, "Games.1", line), parsed);
        Assert.Equal(32 + 1 + "Games.1".Length + 1 + Encoding.UTF8.GetByteCount(line), Encoding.UTF8.GetByteCount(payload));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a payload")]
    [InlineData("0123456789abcdef0123456789abcdefXlobby\nline")]
    public void Anything_else_on_the_channel_is_ignored(string payload) => Assert.False(BackplanePayload.TryParse(payload, out _));

    /// <summary>
    /// The worst case by design: the longest line allowed with PostgreSQL, all of it U+FFFD (three bytes each, as
    /// a line full of made-visible characters is delivered), from and to the longest nick, in the longest room.
    /// Every kind of payload stays under NOTIFY's 8000 bytes.
    /// </summary>
    [Fact]
    public void The_longest_line_allowed_fits_one_notify_in_every_kind_of_payload()
    {
        var text = new string('\uFFFD', ChatOptions.PostgresMaxLineBytes / 3);
        Assert.True(Encoding.UTF8.GetByteCount(text) > ChatOptions.PostgresMaxLineBytes - 3);
        var nick = new string('n', ChatNames.MaxLength);
        var room = new string('r', ChatNames.MaxLength);

        foreach (var (kind, target, line) in new[]
        {
            (PayloadKind.RoomMessage, room, ChatMessages.Message(nick, text)),
            (PayloadKind.RoomMessage, room, ChatMessages.Action(nick, text)),
            (PayloadKind.Private, nick, ChatMessages.PrivateFrom(nick, text)),
            (PayloadKind.RoomNotice, room, ChatMessages.Left(nick, room, $"joined {room}")),
            // What crosses instances now: events in their codec's text (the lines above are history of older versions).
            (PayloadKind.RoomMessage, room, ChatEventCodec.Encode(ChatEvent.Message(room, nick, text))),
            (PayloadKind.RoomMessage, room, ChatEventCodec.Encode(ChatEvent.Action(room, nick, text))),
            (PayloadKind.Private, nick, ChatEventCodec.Encode(ChatEvent.PrivateFrom(nick, text))),
            (PayloadKind.RoomNotice, room, ChatEventCodec.Encode(ChatEvent.Left(room, nick, $"joined {room}"))),
            (PayloadKind.RoomNotice, room, ChatEventCodec.Encode(ChatEvent.NickChanged(room, nick, nick))),
        })
        {
            var payload = BackplanePayload.Format(Instance, kind, target, line);
            Assert.True(BackplanePayload.Fits(payload), $"{kind}: {Encoding.UTF8.GetByteCount(payload)} bytes");
        }

        // One byte more than allowed would not be: the limit is tight, not arbitrary.
        var tooLong = new string('x', ChatOptions.PostgresMaxLineBytes + ChatOptions.LineOverheadBytes + BackplanePayload.MaxHeaderBytes);
        Assert.False(BackplanePayload.Fits(BackplanePayload.Format(Instance, PayloadKind.RoomMessage, room, tooLong)));
    }

    [Theory]
    [InlineData("Host=db;Database=echohost;Username=echohost;Password=secret", 2048, null)]
    [InlineData("Host=db;Nonsense=1", 2048, "EchoHost:Chat:Postgres: not a valid Npgsql connection string")]
    [InlineData("Database=echohost", 2048, "EchoHost:Chat:Postgres: the connection string names no Host")]
    [InlineData("Host=db", 8000, "EchoHost:Chat:MaxLineBytes: 8000 is too large with EchoHost:Chat:Postgres set")]
    [InlineData("", 8000, null)]
    public void The_connection_string_and_the_line_limit_are_checked_at_start(string postgres, int maxLineBytes, string? failure)
    {
        var options = new EchoHostOptions();
        options.Sections.Set(ChatSection.Key, new ChatOptions { Postgres = postgres, MaxLineBytes = maxLineBytes, MaxQueuedBytes = 1 << 20 });
        var failures = (TestProtocols.Validator().Validate(null, options).Failures ?? []).Where(f => f.StartsWith("EchoHost:Chat", StringComparison.Ordinal)).ToList();

        if (failure is null)
        {
            Assert.Empty(failures);
        }
        else
        {
            Assert.StartsWith(failure, Assert.Single(failures));
            Assert.DoesNotContain("secret", failures[0]);
        }
    }
}
