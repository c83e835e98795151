namespace EchoHost.Protocols.Chat.Core;

/// <summary>
/// The rules shared by nicks and room names: 1–24 letters, digits, '_', '-', '.'; compared case-insensitively. Nicks
/// are also unique by their look-alike key (<see cref="NickKey"/>), so nobody can pass for someone else.
/// </summary>
internal static class ChatNames
{
    public const int MaxLength = 24;

    public static readonly StringComparer Comparer = StringComparer.OrdinalIgnoreCase;

    /// <summary>Nicks nobody may take: they would impersonate the server.</summary>
    private static readonly HashSet<string> ReservedNicks = new(Comparer)
    {
        "server", "system", "admin", "administrator", "root", "operator", "echohost", "everyone", "nobody",
    };

    private static readonly HashSet<string> ReservedNickKeys = ReservedNicks.Select(NickKey).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// What a nick looks like, for uniqueness: two nicks with the same key would pass for each other. The key is the
    /// Unicode TR39 skeleton, lower-cased after (as Ergo does: 'I', 'l', '1' and '|' all look like 'l', '0' like 'O',
    /// 'm' like "rn"), of the nick without the '.', '_' and '-' at its ends ("alice." and "_alice" pass for "alice"
    /// beside it: TR39 compares single characters and does not catch them). A nick that is nothing but those keeps
    /// them. This is the key other instances compare too (the backplane's <c>nick_key</c>).
    /// </summary>
    public static string NickKey(string nick) => ChatConfusables.Skeleton(Core(nick)).ToLowerInvariant();

    /// <summary>
    /// Every key a nick must not share with another user's: <see cref="NickKey"/>, and the nick without its end
    /// punctuation in any case ("ALICE-" beside "alice": case-insensitive, but its skeleton is "allce", as 'I' looks
    /// like 'l' while 'i' does not). The two kinds are marked so they never meet.
    /// </summary>
    public static string[] NickKeys(string nick) => ["~" + NickKey(nick), "=" + Core(nick).ToLowerInvariant()];

    private static string Core(string nick)
    {
        var core = nick.Trim(['.', '_', '-']);
        return core.Length == 0 ? nick : core;
    }

    /// <summary>Why <paramref name="name"/> is not a valid name, or null when it is.</summary>
    public static string? Problem(string name, string what)
    {
        if (name.Length is 0 or > MaxLength)
        {
            return $"a {what} has 1 to {MaxLength} characters";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return $"a {what} may only contain letters, digits, '_', '-' and '.'";
            }
        }

        return null;
    }

    public static bool IsReservedNick(string nick) => ReservedNicks.Contains(nick) || ReservedNickKeys.Contains(NickKey(nick));
}
