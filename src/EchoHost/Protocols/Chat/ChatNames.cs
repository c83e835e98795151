namespace EchoHost.Protocols.Chat;

/// <summary>The rules shared by nicks and room names: 1–24 letters, digits, '_', '-', '.'; compared case-insensitively.</summary>
internal static class ChatNames
{
    public const int MaxLength = 24;

    public static readonly StringComparer Comparer = StringComparer.OrdinalIgnoreCase;

    /// <summary>Nicks nobody may take: they would impersonate the server.</summary>
    private static readonly HashSet<string> ReservedNicks = new(Comparer)
    {
        "server", "system", "admin", "administrator", "root", "operator", "echohost", "everyone", "nobody",
    };

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

    public static bool IsReservedNick(string nick) => ReservedNicks.Contains(nick);
}
