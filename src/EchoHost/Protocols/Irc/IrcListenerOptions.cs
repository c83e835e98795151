namespace EchoHost.Protocols.Irc;

/// <summary>
/// The keys an IRC listener has besides the shared ones: offered and bound on IRC listeners only. Read with
/// <c>listener.Own&lt;IrcListenerOptions&gt;()</c>.
/// </summary>
public sealed class IrcListenerOptions
{
    internal const int MinLineBytes = 512;
    internal const int MaxLineBytesLimit = 8192;

    /// <summary>Longest line accepted from a client, its CRLF included (IRC's 512 by default); IRCv3 tags may add 4096.</summary>
    public int MaxLineBytes { get; set; } = MinLineBytes;

    /// <summary>The server's name in IRC prefixes and replies.</summary>
    public string ServerName { get; set; } = "echohost";

    /// <summary>Checks one IRC listener's own keys; every failure is one line that begins with the key at fault.</summary>
    internal static void Validate(string path, object own, List<string> failures)
    {
        var options = (IrcListenerOptions)own;
        if (options.MaxLineBytes is < MinLineBytes or > MaxLineBytesLimit)
        {
            failures.Add($"{path}:{nameof(MaxLineBytes)}: {options.MaxLineBytes} is out of range; use {MinLineBytes} to {MaxLineBytesLimit}");
        }

        if (options.ServerName.Length is 0 or > 63 || !options.ServerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
        {
            failures.Add($"{path}:{nameof(ServerName)}: '{options.ServerName}' is not a host name; use letters, digits, '.' and '-', such as irc.example.org");
        }
    }
}
