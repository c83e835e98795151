namespace EchoHost.Protocols.Web;

/// <summary>
/// The keys a Web listener has besides the shared ones: offered and bound on Web listeners only. Read with
/// <c>listener.Own&lt;WebListenerOptions&gt;()</c>.
/// </summary>
public sealed class WebListenerOptions
{
    internal const int MaxMessageBytesLimit = 16 * 1024 * 1024;
    internal static readonly TimeSpan MaxDelayLimit = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Origins (<c>https://chat.example.org</c>) whose pages may open a WebSocket besides the listener's own page; <c>*</c>
    /// allows any. A request with no Origin (not from a browser) is always allowed.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>The longest WebSocket message <c>/ws/echo</c> accepts; a longer one is refused with close code 1009.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>How often the server pings an open WebSocket; zero turns pings off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the WebSocket is closed; zero waits for ever.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How much of a request body <c>/echo</c> shows; the rest is read and dropped.</summary>
    public int MaxEchoBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The longest delay a client may ask <c>/echo</c> for; zero turns the delay off.</summary>
    public TimeSpan MaxEchoDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The header a trusted proxy's client address is read from (see <see cref="ForwardedHeaderKind"/>).</summary>
    public ForwardedHeaderKind ForwardedHeader { get; set; } = ForwardedHeaderKind.XForwardedFor;

    /// <summary>Checks one Web listener's own keys; every failure is one line that begins with the key at fault.</summary>
    internal static void Validate(string path, object own, List<string> failures)
    {
        var options = (WebListenerOptions)own;
        foreach (var origin in options.AllowedOrigins)
        {
            if (origin != "*" && WebOrigins.Normalize(origin) is null)
            {
                failures.Add($"{path}:{nameof(AllowedOrigins)}: '{origin}' is not an origin; use scheme://host[:port], such as https://chat.example.org, or *");
            }
        }

        if (options.MaxMessageBytes is < 1 or > MaxMessageBytesLimit)
        {
            failures.Add($"{path}:{nameof(MaxMessageBytes)}: {options.MaxMessageBytes} is out of range; use 1 to {MaxMessageBytesLimit}");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            failures.Add($"{path}:{nameof(KeepAliveInterval)}: {options.KeepAliveInterval} is negative; use 0 to turn pings off");
        }

        if (options.KeepAliveTimeout < TimeSpan.Zero)
        {
            failures.Add($"{path}:{nameof(KeepAliveTimeout)}: {options.KeepAliveTimeout} is negative; use 0 to wait for ever");
        }

        if (options.MaxEchoBodyBytes is < 0 or > MaxMessageBytesLimit)
        {
            failures.Add($"{path}:{nameof(MaxEchoBodyBytes)}: {options.MaxEchoBodyBytes} is out of range; use 0 to {MaxMessageBytesLimit}");
        }

        if (options.MaxEchoDelay < TimeSpan.Zero || options.MaxEchoDelay > MaxDelayLimit)
        {
            failures.Add($"{path}:{nameof(MaxEchoDelay)}: {options.MaxEchoDelay} is out of range; use 00:00:00 to {MaxDelayLimit}");
        }
    }
}
