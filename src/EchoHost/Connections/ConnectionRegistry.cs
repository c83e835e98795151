using System.Collections.Concurrent;

namespace EchoHost.Connections;

/// <summary>The open TCP connections of every listener, for <c>GET /connections</c>.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<ConnectionSession, byte> _open = new(ReferenceEqualityComparer.Instance);

    public void Add(ConnectionSession session) => _open.TryAdd(session, 0);

    public void Remove(ConnectionSession session) => _open.TryRemove(session, out _);

    /// <summary>The open connections now, oldest first.</summary>
    public IReadOnlyList<ConnectionSession> Snapshot() => _open.Keys.OrderBy(s => s.StartTimestamp).ToList();
}
