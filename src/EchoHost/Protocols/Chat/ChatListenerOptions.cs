namespace EchoHost.Protocols.Chat;

/// <summary>
/// The keys a chat listener has besides the shared ones (the chat registration's
/// <c>ListenerOptions</c>): offered and bound on chat listeners, refused on others'. Read with
/// <c>listener.Own&lt;ChatListenerOptions&gt;()</c>.
/// </summary>
public sealed class ChatListenerOptions
{
    /// <summary>What a user who joins is sent first; unset means <see cref="GreetingMode.Full"/>.</summary>
    public GreetingMode Greeting { get; set; } = GreetingMode.Full;

    /// <summary>Checks one chat listener's own keys; every failure is one line that begins with the key at fault.</summary>
    internal static void Validate(string path, object own, List<string> failures)
    {
        var options = (ChatListenerOptions)own;
        if (!Enum.IsDefined(options.Greeting))
        {
            failures.Add($"{path}:{nameof(Greeting)}: use one of {string.Join(", ", Enum.GetNames<GreetingMode>())}");
        }
    }
}
