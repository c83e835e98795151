using System.Diagnostics.Metrics;
using EchoHost.Telemetry;

namespace EchoHost.Protocols.Chat.Backplane;

/// <summary>What the backplane counts, for whoever watches: <see cref="BackplaneMetrics"/> in the host, a recorder in tests.</summary>
internal interface IBackplaneObserver
{
    /// <summary>NOTIFYs sent to the other instances.</summary>
    void Published(int messages);

    /// <summary>A NOTIFY from another instance, delivered here.</summary>
    void Received();

    /// <summary>A connection attempt failed, or <paramref name="count"/> statements did.</summary>
    void Error(int count = 1);

    /// <summary>An event that reached only this instance because the database could not be reached.</summary>
    void Unpublished(int messages);

    void Connected(bool connected);

    /// <summary>Called once the backplane runs (and the metrics SDK listens).</summary>
    void StartSeriesAtZero();
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
        _published = meter.CreateCounter<long>("echohost.chat.backplane.published", "{message}", "Chat events sent to the other instances (one NOTIFY each).");
        _received = meter.CreateCounter<long>("echohost.chat.backplane.received", "{message}", "Chat events received from other instances.");
        _errors = meter.CreateCounter<long>("echohost.chat.backplane.errors", "{error}", "Failed connection attempts and statements of the chat backplane.");
        _unpublished = meter.CreateCounter<long>("echohost.chat.backplane.unpublished", "{message}",
            "Chat events that reached only this instance because the database could not be reached.");
        meter.CreateObservableGauge("echohost.chat.backplane.connected", () => Volatile.Read(ref _connected), unit: null,
            "1 while the chat backplane is connected to PostgreSQL, 0 while chat is local to this instance.");
    }

    /// <summary>Every series from zero, once the SDK listens.</summary>
    public void StartSeriesAtZero()
    {
        _published.Add(0);
        _received.Add(0);
        _errors.Add(0);
        _unpublished.Add(0);
    }

    public void Published(int messages) => _published.Add(messages);

    public void Received() => _received.Add(1);

    public void Error(int count = 1) => _errors.Add(count);

    public void Unpublished(int messages) => _unpublished.Add(messages);

    public void Connected(bool connected) => Volatile.Write(ref _connected, connected ? 1 : 0);
}
