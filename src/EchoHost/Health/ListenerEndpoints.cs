using System.Collections.Concurrent;
using System.Net;
using EchoHost.Configuration;

namespace EchoHost.Health;

/// <summary>Where whoever binds a listener reports the outcome: the endpoints it is bound to, or why binding failed.</summary>
internal interface IListenerEndpoints
{
    void MarkBound(string listener, IReadOnlyList<IPEndPoint> endPoints);

    void MarkFailed(string listener, string reason);
}

/// <summary>
/// Where every listener of the <see cref="ListenerSet"/> is actually bound once started (port 0 becomes a real port),
/// and the HTTP endpoint: the definitions say what was asked for, this says what the host got. Every enabled listener
/// starts out pending; the host is ready (<c>GET /readyz</c>) only once all of them are bound and it is not stopping.
/// </summary>
internal sealed class ListenerEndpoints(ListenerSet listeners, IHostApplicationLifetime lifetime) : IListenerEndpoints
{
    private const string Pending = "not bound yet";

    // Listener name → its endpoints once bound; otherwise why it is not.
    private readonly ConcurrentDictionary<string, (IReadOnlyList<IPEndPoint>? EndPoints, string? Problem)> _state = new(
        listeners.All.Select(l => KeyValuePair.Create(l.Name, ((IReadOnlyList<IPEndPoint>?)null, (string?)Pending))),
        StringComparer.OrdinalIgnoreCase);

    public void MarkBound(string listener, IReadOnlyList<IPEndPoint> endPoints) => _state[listener] = (endPoints, null);

    public void MarkFailed(string listener, string reason) => _state[listener] = (null, $"failed: {reason}");

    public IPEndPoint? HttpEndPoint { get; private set; }

    public void MarkHttpBound(IPEndPoint endPoint) => HttpEndPoint = endPoint;

    /// <summary>Every endpoint of a bound listener: two for a UDP listener on <c>localhost</c>, one otherwise.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints(string listener) =>
        _state.TryGetValue(listener, out var state)
            ? state.EndPoints ?? throw new InvalidOperationException($"Listener '{listener}' is {state.Problem}.")
            : throw new KeyNotFoundException($"No listener named '{listener}'.");

    /// <summary>The endpoint a listener is bound to; for <c>localhost</c>, the IPv4 loopback one if there is one.</summary>
    public IPEndPoint EndPoint(string listener) => EndPoints(listener)[0];

    /// <summary>
    /// Where a listener stands, without throwing: its description when bound (<see cref="Describe(ListenerDefinition)"/>),
    /// else null and why not ("not bound yet", "failed: …").
    /// </summary>
    public (string? Bound, string? Problem, bool Failed) Status(ListenerDefinition listener) =>
        _state.TryGetValue(listener.Name, out var state) && state.EndPoints is { } bound
            ? (Describe(listener.Address, bound[0]), null, false)
            : (null, state.Problem ?? Pending, state.Problem?.StartsWith("failed", StringComparison.Ordinal) == true);

    /// <summary>How an endpoint reads in logs: <c>localhost:65432</c>, <c>[::]:65432</c> or <c>127.0.0.1:41234</c>.</summary>
    public string Describe(ListenerDefinition listener) => Describe(listener.Address, EndPoint(listener.Name));

    public string DescribeHttp() => HttpEndPoint is { } endPoint ? Describe(listeners.Http.Address, endPoint) : "off";

    private static string Describe(BindAddress address, IPEndPoint bound) =>
        address.Kind == BindAddressKind.Localhost ? $"localhost:{bound.Port}" : bound.ToString();

    /// <summary>Ready, or why not: shutting down, or the listeners still pending or failed.</summary>
    public (bool Ready, string Description) Readiness()
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return (false, "shutting down");
        }

        var waiting = _state.Where(l => l.Value.Problem is not null).Select(l => $"{l.Key} ({l.Value.Problem})").Order().ToList();
        return waiting.Count == 0
            ? (true, $"{_state.Count} listener(s) bound")
            : (false, $"waiting for {string.Join(", ", waiting)}");
    }
}
