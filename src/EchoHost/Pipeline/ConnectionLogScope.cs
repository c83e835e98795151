using System.Collections;
using System.Net;

namespace EchoHost.Pipeline;

/// <summary>The logging scope of one connection: every line logged while serving it carries these properties.</summary>
internal sealed class ConnectionLogScope(string connectionId, string listener, IPEndPoint? remoteEndPoint)
    : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("ConnectionId", connectionId),
        1 => new("Listener", listener),
        2 => new("RemoteEndPoint", remoteEndPoint?.ToString()),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"ConnectionId:{connectionId} Listener:{listener} RemoteEndPoint:{remoteEndPoint}";
}
