using System.Text;

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
/// One NOTIFY payload: <c>{sending instance, 32 hex digits}{kind}{room or nick}\n{line as delivered}</c>. Nothing is
/// escaped: names are letters, digits, '_', '-', '.', and a chat line has no line break. So a payload is at most
/// <see cref="MaxHeaderBytes"/> plus the line, which <c>EchoHost:Chat:MaxLineBytes</c> bounds (checked at start
/// against PostgreSQL's limit).
/// </summary>
internal readonly record struct BackplanePayload(string Instance, PayloadKind Kind, string Target, string Line)
{
    /// <summary>PostgreSQL's NOTIFY payload must be shorter than 8000 bytes.</summary>
    public const int MaxBytes = 7999;

    /// <summary>32 hex digits, the kind, a name (at most <see cref="ChatNames.MaxLength"/>), the line break; rounded up.</summary>
    public const int MaxHeaderBytes = 128;

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
}
