namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// Turns a UDP listener's drop and error counters into at most one log line per report: a flood is a handful of
/// summary lines, never one line per packet.
/// </summary>
internal sealed partial class UdpDropSummary(string listenerName, UdpListenerStats stats, TimeProvider time, ILogger logger)
{
    private readonly long[] _dropped = new long[UdpDropReasons.All.Count];
    private long _socketErrors;
    private long _since = time.GetTimestamp();

    /// <summary>Logs what was dropped and what failed since the previous report, if anything was.</summary>
    public void Report()
    {
        var seconds = time.GetElapsedTime(_since).TotalSeconds;
        _since = time.GetTimestamp();

        var deniedPort = Delta(UdpDropReason.DeniedPort);
        var badSource = Delta(UdpDropReason.BadSource);
        var tooLarge = Delta(UdpDropReason.TooLarge);
        var rateLimited = Delta(UdpDropReason.RateLimited);
        var dropped = deniedPort + badSource + tooLarge + rateLimited;
        if (dropped > 0)
        {
            LogDropped(listenerName, dropped, seconds, deniedPort, badSource, tooLarge, rateLimited);
        }

        var errors = stats.SocketErrors - _socketErrors;
        _socketErrors += errors;
        if (errors > 0)
        {
            LogSocketErrors(listenerName, errors, seconds, stats.LastSocketError.ToString());
        }
    }

    private long Delta(UdpDropReason reason)
    {
        var now = stats.Dropped(reason);
        var delta = now - _dropped[(int)reason];
        _dropped[(int)reason] = now;
        return delta;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} dropped {Dropped} datagrams in the last {Seconds:0.0}s: denied_port {DeniedPort}, bad_source {BadSource}, too_large {TooLarge}, rate_limited {RateLimited}")]
    private partial void LogDropped(string listener, long dropped, double seconds, long deniedPort, long badSource, long tooLarge, long rateLimited);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} had {SocketErrors} socket errors in the last {Seconds:0.0}s (last: {LastSocketError}); still serving")]
    private partial void LogSocketErrors(string listener, long socketErrors, double seconds, string lastSocketError);
}
