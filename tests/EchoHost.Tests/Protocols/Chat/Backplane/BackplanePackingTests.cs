using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Backplane;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary>Several events per NOTIFY: packed up to PostgreSQL's payload limit, and unpacked in order.</summary>
public sealed class BackplanePackingTests
{
    private static readonly string Instance = Guid.NewGuid().ToString("N");

    [Fact]
    public void Many_lines_pack_into_few_payloads_under_the_limit_and_unpack_in_order()
    {
        var events = Enumerable.Range(0, 1000).Select(i => (PayloadKind.RoomMessage, $"room{i % 3}", $"<guest-{i}> line number {i} \uFFFD€")).ToList();
        long sequence = 41;

        var payloads = BackplanePayload.Pack(Instance, ref sequence, events);

        // About 40 bytes a line: some 200 lines per NOTIFY instead of one.
        Assert.InRange(payloads.Count, 5, 8);
        Assert.All(payloads, p => Assert.True(BackplanePayload.Fits(p), $"{Encoding.UTF8.GetByteCount(p)} bytes"));
        Assert.Equal(41 + payloads.Count, sequence);
        var unpacked = new List<BackplanePayload>();
        foreach (var payload in payloads)
        {
            Assert.True(BackplanePayload.TryUnpack(payload, unpacked));
        }

        Assert.Equal(events.Select(e => new BackplanePayload(Instance, e.Item1, e.Item2, e.Item3)), unpacked);
    }

    [Fact]
    public void The_same_lines_packed_twice_make_different_payloads()
    {
        // PostgreSQL delivers identical payloads of one transaction once: the sequence keeps them apart.
        long sequence = 0;
        var line = new[] { (PayloadKind.RoomMessage, "lobby", "<ann> again") };
        Assert.NotEqual(BackplanePayload.Pack(Instance, ref sequence, line)[0], BackplanePayload.Pack(Instance, ref sequence, line)[0]);
    }

    [Fact]
    public void The_longest_line_allowed_fits_a_packed_payload_alone_with_the_longest_sequence()
    {
        var text = new string('\uFFFD', ChatOptions.PostgresMaxLineBytes / 3);
        var line = ChatMessages.Message(new string('n', ChatNames.MaxLength), text);
        var room = new string('r', ChatNames.MaxLength);
        var sequence = long.MaxValue - 2;

        var payloads = BackplanePayload.Pack(Instance, ref sequence, [(PayloadKind.RoomMessage, room, line), (PayloadKind.RoomMessage, room, line)]);

        Assert.Equal(2, payloads.Count);
        Assert.All(payloads, p => Assert.True(BackplanePayload.Fits(p), $"{Encoding.UTF8.GetByteCount(p)} bytes"));
    }

    [Fact]
    public void One_event_payloads_still_unpack_and_older_instances_ignore_packed_ones()
    {
        var events = new List<BackplanePayload>();
        Assert.True(BackplanePayload.TryUnpack(BackplanePayload.Format(Instance, PayloadKind.Private, "bob", "[msg from ann] hi"), events));
        Assert.Equal([new BackplanePayload(Instance, PayloadKind.Private, "bob", "[msg from ann] hi")], events);

        long sequence = 0;
        var packed = BackplanePayload.Pack(Instance, ref sequence, [(PayloadKind.RoomMessage, "lobby", "<ann> hi")])[0];
        Assert.False(BackplanePayload.TryParse(packed, out _));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef#1")]
    [InlineData("0123456789abcdef0123456789abcdef#1\nMlobby")]
    [InlineData("0123456789abcdef0123456789abcdef#1\nMlobby\n<a> hi\nXlobby\n<a> x")]
    public void A_damaged_packed_payload_delivers_nothing(string payload)
    {
        var events = new List<BackplanePayload>();
        Assert.False(BackplanePayload.TryUnpack(payload, events));
        Assert.Empty(events);
    }
}
