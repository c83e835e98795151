using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Pipeline;

/// <summary>The open TCP connections of every listener, for <c>GET /connections</c>.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<ConnectionSession, byte> _open = new(ReferenceEqualityComparer.Instance);
    private readonly Func<object, Task> _remove;

    public ConnectionRegistry()
    {
        _remove = session =>
        {
            _open.TryRemove((ConnectionSession)session, out _);
            return Task.CompletedTask;
        };
    }

    /// <summary>The open connections now, oldest first.</summary>
    public IReadOnlyList<ConnectionSession> Snapshot() => _open.Keys.OrderBy(s => s.StartTimestamp).ToList();

    /// <summary>The middleware that keeps a connection in the registry while it is open.</summary>
    public Task TrackAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var session = connection.Features.GetRequiredFeature<ConnectionSession>();
        _open.TryAdd(session, 0);
        return next.ThenOnEnd(connection, _remove, session);
    }
}
