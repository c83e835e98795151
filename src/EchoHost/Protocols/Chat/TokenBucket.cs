namespace EchoHost.Protocols.Chat;

/// <summary>
/// Flood control for one connection: <c>burst</c> lines at once, refilled at <c>perSecond</c>. Not thread-safe: only
/// the connection's reading loop uses it. Time comes from <see cref="TimeProvider"/> so tests need no clock.
/// </summary>
internal sealed class TokenBucket(int burst, double perSecond, TimeProvider time)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    public bool TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * perSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
