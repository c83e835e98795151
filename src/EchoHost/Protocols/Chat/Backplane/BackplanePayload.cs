using System.Globalization;
using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>What a NOTIFY carries to the other instances.</summary>
internal enum PayloadKind
{
    /// <summary>A notice for a room (joined, left, nick changed).</summary>
    RoomNotice = 'N',
    /// <summary>A message said in a room: the receiving instances keep it in their history too.</summary>
    RoomMessage = 'M',
    /// <summary>A private message for one nick.</summary>
    Private = 'P',
}

/// <summary>
/// One event in a NOTIFY payload. A payload holds one event, <c>{sending instance, 32 hex digits}{kind}{room or
/// nick}\n{line as delivered}</c>, or several, packed: <c>{instance}#{sequence}</c> then, per event,
/// <c>\n{kind}{room or nick}\n{line}</c>. Nothing is escaped: names are letters, digits, '_', '-', '.', and a chat line
/// has no line break. The sequence (per instance) keeps two packed payloads of one transaction apart: PostgreSQL
/// delivers identical payloads of one transaction once. One event is at most <see cref="MaxHeaderBytes"/> plus the
/// line, which <c>EchoHost:Chat:MaxLineBytes</c> bounds (checked at start against PostgreSQL's limit), so one event
/// always fits a payload alone. An instance from before packing ignores packed payloads ('#' is no kind).
/// </summary>
internal readonly record struct BackplanePayload(string Instance, PayloadKind Kind, string Target, string Line)
{
    /// <summary>The NOTIFY size budget, defined once: <see cref="ChatOptions.PostgresNotifyMaxBytes"/> (a payload under 8000 bytes).</summary>
    public const int MaxBytes = ChatOptions.PostgresNotifyMaxBytes;

    /// <summary>
    /// <see cref="ChatOptions.PostgresNotifyHeaderBytes"/>: 32 hex digits, '#', a sequence (at most 20 digits), the
    /// kind, a name (at most <see cref="ChatNames.MaxLength"/>), two line breaks; rounded up.
    /// </summary>
    public const int MaxHeaderBytes = ChatOptions.PostgresNotifyHeaderBytes;

    private const char Packed = '#';

    public static string Format(string instance, PayloadKind kind, string target, string line) =>
        string.Concat(instance, ((char)kind).ToString(), target, "\n", line);

    /// <summary>Whether PostgreSQL takes it: what start-up validation of <c>MaxLineBytes</c> guarantees for every payload.</summary>
    public static bool Fits(string payload) => Encoding.UTF8.GetByteCount(payload) <= MaxBytes;

    public static bool TryParse(string payload, out BackplanePayload parsed)
    {
        parsed = default;
        var newline = payload.IndexOf('\n');
        if (newline < 33 || !Enum.IsDefined((PayloadKind)payload[32]))
        {
            return false;
        }

        parsed = new BackplanePayload(payload[..32], (PayloadKind)payload[32], payload[33..newline], payload[(newline + 1)..]);
        return true;
    }

    /// <summary>
    /// Packs events, in order, into as few payloads as fit <see cref="MaxBytes"/> each, numbered from
    /// <paramref name="sequence"/> on (advanced past the last one used).
    /// </summary>
    public static List<string> Pack(string instance, ref long sequence, IEnumerable<(PayloadKind Kind, string Target, string Line)> events)
    {
        var payloads = new List<string>();
        var packing = new StringBuilder();
        var bytes = 0;
        foreach (var (kind, target, line) in events)
        {
            var eventBytes = 3 + Encoding.UTF8.GetByteCount(target) + Encoding.UTF8.GetByteCount(line);
            if (packing.Length > 0 && bytes + eventBytes > MaxBytes)
            {
                payloads.Add(packing.ToString());
                packing.Clear();
            }

            if (packing.Length == 0)
            {
                packing.Append(instance).Append(Packed).Append((++sequence).ToString(CultureInfo.InvariantCulture));
                bytes = packing.Length;
            }

            packing.Append('\n').Append((char)kind).Append(target).Append('\n').Append(line);
            bytes += eventBytes;
        }

        if (packing.Length > 0)
        {
            payloads.Add(packing.ToString());
        }

        return payloads;
    }

    /// <summary>Adds the events of a payload, one or packed, in order; false (nothing added) when it is no payload of ours.</summary>
    public static bool TryUnpack(string payload, List<BackplanePayload> events)
    {
        if (payload.Length <= 33 || payload[32] != Packed)
        {
            if (!TryParse(payload, out var one))
            {
                return false;
            }

            events.Add(one);
            return true;
        }

        var instance = payload[..32];
        var parts = payload.Split('\n');
        if (parts.Length < 3 || parts.Length % 2 == 0)
        {
            return false;
        }

        var first = events.Count;
        for (var i = 1; i < parts.Length; i += 2)
        {
            if (parts[i].Length == 0 || !Enum.IsDefined((PayloadKind)parts[i][0]))
            {
                events.RemoveRange(first, events.Count - first);
                return false;
            }

            events.Add(new BackplanePayload(instance, (PayloadKind)parts[i][0], parts[i][1..], parts[i + 1]));
        }

        return true;
    }
}
