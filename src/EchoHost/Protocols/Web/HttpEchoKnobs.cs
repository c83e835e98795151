using System.Globalization;

namespace EchoHost.Protocols.Web;

/// <summary>
/// What a request asks of the echo's answer: a status code (<c>?status=503</c> or <c>X-Echo-Status</c>, 200–599) and a
/// delay (<c>?delay=250ms</c> or <c>X-Echo-Delay</c>, at most the listener's <c>MaxEchoDelay</c>). The query wins when
/// both are given: it is what a person types in a browser's address bar.
/// </summary>
internal readonly record struct HttpEchoKnobs(int Status, TimeSpan Delay)
{
    public const string StatusQuery = "status";
    public const string DelayQuery = "delay";
    public const string StatusHeader = "X-Echo-Status";
    public const string DelayHeader = "X-Echo-Delay";

    public const int MinStatus = 200;
    public const int MaxStatus = 599;

    /// <summary>The knobs of <paramref name="request"/>, or false with one line that says which value is wrong and why.</summary>
    public static bool TryParse(HttpRequest request, TimeSpan maxDelay, out HttpEchoKnobs knobs, out string error)
    {
        knobs = new HttpEchoKnobs(StatusCodes.Status200OK, TimeSpan.Zero);
        var status = StatusCodes.Status200OK;
        var delay = TimeSpan.Zero;
        if (!TryPick(request, StatusQuery, StatusHeader, out var statusText, out error)
            || (statusText is not null && !TryParseStatus(statusText, out status, out error))
            || !TryPick(request, DelayQuery, DelayHeader, out var delayText, out error)
            || (delayText is not null && !TryParseDelay(delayText, maxDelay, out delay, out error)))
        {
            return false;
        }

        knobs = new HttpEchoKnobs(status, delay);
        return true;
    }

    public static bool TryParseStatus(string text, out int status, out string error)
    {
        error = string.Empty;
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out status) && status is >= MinStatus and <= MaxStatus)
        {
            return true;
        }

        error = $"status: '{Shorten(text)}' is not a status code from {MinStatus} to {MaxStatus}";
        return false;
    }

    /// <summary><c>250ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>, <c>1h</c> (as Go's durations, which traefik/whoami's <c>?wait=</c> takes); a bare number is milliseconds, as the peers' <c>delay-ms</c> knobs are.</summary>
    public static bool TryParseDelay(string text, TimeSpan max, out TimeSpan delay, out string error)
    {
        error = string.Empty;
        delay = TimeSpan.Zero;
        var trimmed = text.Trim();
        var (number, scale) = trimmed switch
        {
            _ when trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (trimmed[..^2], 1.0),
            _ when trimmed.EndsWith('s') || trimmed.EndsWith('S') => (trimmed[..^1], 1000.0),
            _ when trimmed.EndsWith('m') || trimmed.EndsWith('M') => (trimmed[..^1], 60_000.0),
            _ when trimmed.EndsWith('h') || trimmed.EndsWith('H') => (trimmed[..^1], 3_600_000.0),
            _ => (trimmed, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value * scale))
        {
            error = $"delay: '{Shorten(text)}' is not a duration; write one such as 250ms, 2s or 1.5s";
            return false;
        }

        var milliseconds = value * scale;
        if (milliseconds > max.TotalMilliseconds)
        {
            error = $"delay: {Shorten(trimmed)} is over this listener's MaxEchoDelay ({Format(max)})";
            return false;
        }

        delay = TimeSpan.FromMilliseconds(Math.Round(milliseconds));
        return true;
    }

    /// <summary>A duration as the knob takes it: <c>250ms</c>, <c>10s</c>.</summary>
    public static string Format(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerSecond == 0
            ? $"{(long)duration.TotalSeconds}s"
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###}ms");

    /// <summary>The query's value, else the header's; a knob given twice in one place is an error, not a guess.</summary>
    private static bool TryPick(HttpRequest request, string query, string header, out string? value, out string error)
    {
        error = string.Empty;
        value = null;
        var (values, where) = request.Query.TryGetValue(query, out var fromQuery) && fromQuery.Count > 0
            ? (fromQuery, $"?{query}=")
            : (request.Headers[header], header);
        if (values.Count > 1)
        {
            error = $"{query}: {where} given {values.Count} times; give it once";
            return false;
        }

        value = values.Count == 1 ? values[0] : null;
        return true;
    }

    /// <summary>A value as quoted in an error line: never a whole header of several KiB.</summary>
    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
