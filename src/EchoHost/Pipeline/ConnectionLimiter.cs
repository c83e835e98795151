using System.Net;

namespace EchoHost.Pipeline;

internal enum LimitRefusal
{
    None,
    /// <summary>The listener already has <c>MaxConnections</c> open.</summary>
    MaxConnections,
    /// <summary>The client's IP already has <c>MaxConnectionsPerIp</c> open on this listener.</summary>
    PerIp,
}

internal static class LimitRefusals
{
    /// <summary>The refusals a listener can count, as the <c>reason</c> tag names them.</summary>
    public static IReadOnlyList<string> TagValues { get; } = [LimitRefusal.MaxConnections.TagValue(), LimitRefusal.PerIp.TagValue()];

    public static string TagValue(this LimitRefusal refusal) => refusal == LimitRefusal.PerIp ? "per_ip" : "max_connections";
}

/// <summary>Counts one listener's open connections, in total and per client IP; 0 means no limit.</summary>
internal sealed class ConnectionLimiter(int maxConnections, int maxConnectionsPerIp)
{
    private readonly Dictionary<IPAddress, int> _perIp = new();
    private readonly Lock _lock = new();
    private int _active;

    public int Active => Volatile.Read(ref _active);

    public LimitRefusal TryAcquire(IPAddress? ip)
    {
        lock (_lock)
        {
            if (maxConnections > 0 && _active >= maxConnections)
            {
                return LimitRefusal.MaxConnections;
            }

            if (ip is not null)
            {
                _perIp.TryGetValue(ip, out var fromIp);
                if (maxConnectionsPerIp > 0 && fromIp >= maxConnectionsPerIp)
                {
                    return LimitRefusal.PerIp;
                }

                _perIp[ip] = fromIp + 1;
            }

            _active++;
            return LimitRefusal.None;
        }
    }

    public void Release(IPAddress? ip)
    {
        lock (_lock)
        {
            _active--;
            if (ip is not null && _perIp.TryGetValue(ip, out var fromIp))
            {
                if (fromIp <= 1)
                {
                    _perIp.Remove(ip);
                }
                else
                {
                    _perIp[ip] = fromIp - 1;
                }
            }
        }
    }
}
