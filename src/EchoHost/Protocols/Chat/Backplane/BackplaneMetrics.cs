using System.Diagnostics.Metrics;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>What the backplane counts, for whoever watches: <see cref="BackplaneMetrics"/> in the host, a recorder in tests.</summary>
internal interface IBackplaneObserver
{
    /// <summary>NOTIFYs sent to the other instances.</summary>
    void Published(int messages);

    /// <summary>Events from another instance (one NOTIFY may carry several), delivered here.</summary>
    void Received(int messages = 1);

    /// <summary>A connection attempt failed, or <paramref name="count"/> statements did.</summary>
    void Error(int count = 1);

    /// <summary>Events that reached only this instance, and why.</summary>
    void Unpublished(int messages, UnpublishedReason reason = UnpublishedReason.Unreachable);

    void Connected(bool connected);

    /// <summary>Called once the backplane runs (and the metrics SDK listens).</summary>
    void StartSeriesAtZero();
}

/// <summary>Why events reached only this instance: the <c>reason</c> tag of <c>echohost.chat.backplane.unpublished</c>.</summary>
internal enum UnpublishedReason
{
    /// <summary>The database could not be reached.</summary>
    Unreachable,
    /// <summary>The database refused the statement that carried them (a schema changed by hand, a missing privilege).</summary>
    StatementFailed,
    /// <summary>Too many events were waiting for the database: the sender was over its share of the queue, or the queue full.</summary>
    Backlog,
}

/// <summary>The backplane's instruments, on the EchoHost meter (instance-wide: no listener tag).</summary>
internal sealed class BackplaneMetrics : IBackplaneObserver
{
    private readonly Counter<long> _published;
    private readonly Counter<long> _received;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _unpublished;
    private int _connected;

    public BackplaneMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(EchoHostMetrics.MeterName);
        _published = meter.CreateCounter<long>("echohost.chat.backplane.published", "{message}", "Chat events sent to the other instances (several may share one NOTIFY).");
        _received = meter.CreateCounter<long>("echohost.chat.backplane.received", "{message}", "Chat events received from other instances.");
        _errors = meter.CreateCounter<long>("echohost.chat.backplane.errors", "{error}", "Failed connection attempts and statements of the chat backplane.");
        _unpublished = meter.CreateCounter<long>("echohost.chat.backplane.unpublished", "{message}",
            "Chat events that reached only this instance: the database could not be reached, refused them, or too many were waiting for it.");
        meter.CreateObservableGauge("echohost.chat.backplane.connected", () => Volatile.Read(ref _connected), unit: null,
            "1 while the chat backplane is connected to PostgreSQL, 0 while chat is local to this instance.");
    }

    /// <summary>Every series from zero, once the SDK listens.</summary>
    public void StartSeriesAtZero()
    {
        _published.Add(0);
        _received.Add(0);
        _errors.Add(0);
        foreach (var reason in Enum.GetValues<UnpublishedReason>())
        {
            _unpublished.Add(0, new KeyValuePair<string, object?>("reason", TagValue(reason)));
        }
    }

    public void Published(int messages) => _published.Add(messages);

    public void Received(int messages = 1) => _received.Add(messages);

    public void Error(int count = 1) => _errors.Add(count);

    public void Unpublished(int messages, UnpublishedReason reason = UnpublishedReason.Unreachable) =>
        _unpublished.Add(messages, new KeyValuePair<string, object?>("reason", TagValue(reason)));

    private static string TagValue(UnpublishedReason reason) => reason switch
    {
        UnpublishedReason.Unreachable => "unreachable",
        UnpublishedReason.StatementFailed => "statement_failed",
        UnpublishedReason.Backlog => "backlog",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public void Connected(bool connected) => Volatile.Write(ref _connected, connected ? 1 : 0);
}
