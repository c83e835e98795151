using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace EchoHost.Telemetry;

/// <summary>
/// The "now" values of one host's EchoHost meter per listener, read in process for the operator's page: every
/// observable instrument (connections open, byte and datagram totals: fields the listeners already keep, read on
/// demand) and the running sum of every up-down counter (chat users), by the <c>echohost.listener</c> tag. Knows no
/// instrument by name, so a protocol added later shows its counts without a change here. Plain counters and histograms
/// are never listened to: they move on hot paths, and the page does not need them.
/// </summary>
internal sealed class ListenerReadings : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _meterScope;

    // Up-down counters: summed as they move, from any thread (a user joining is one Interlocked.Add).
    private readonly ConcurrentDictionary<(Instrument Instrument, string Listener), StrongBox<long>> _sums = new();

    // Observable instruments: read when asked, one reading at a time, into the dictionary of that reading.
    private readonly Lock _reading = new();
    private Dictionary<string, Dictionary<string, long>>? _current;

    /// <summary>
    /// Listens from now on: create it before the first connection (an up-down counter's earlier moves are not seen).
    /// Only meters of this host's <paramref name="meterScope"/> are read (a test process runs several hosts).
    /// </summary>
    public ListenerReadings(IMeterFactory meterScope)
    {
        _meterScope = meterScope;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EchoHostMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, _meterScope)
                && (instrument.IsObservable || IsUpDownCounter(instrument)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Listener name → instrument name → its value now. A listener without a series has no entry for it.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, long>> Read()
    {
        var readings = new Dictionary<string, Dictionary<string, long>>(StringComparer.OrdinalIgnoreCase);
        lock (_reading)
        {
            _current = readings;
            try
            {
                _listener.RecordObservableInstruments();
            }
            finally
            {
                _current = null;
            }
        }

        foreach (var ((instrument, listener), sum) in _sums)
        {
            Of(readings, listener)[instrument.Name] = Volatile.Read(ref sum.Value);
        }

        return readings;
    }

    public void Dispose() => _listener.Dispose();

    private static bool IsUpDownCounter(Instrument instrument) =>
        instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(UpDownCounter<>);

    private void Measured(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (ListenerOf(tags) is not { } listener)
        {
            return;
        }

        if (!instrument.IsObservable)
        {
            var sum = _sums.GetOrAdd((instrument, listener), static _ => new StrongBox<long>());
            Interlocked.Add(ref sum.Value, value);
            return;
        }

        // Called on the reading thread, under _reading, by RecordObservableInstruments; several series of one
        // instrument and listener (by another tag) add up.
        if (_current is { } readings)
        {
            var values = Of(readings, listener);
            values[instrument.Name] = values.GetValueOrDefault(instrument.Name) + value;
        }
    }

    private static string? ListenerOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == ListenerMetrics.ListenerTag)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private static Dictionary<string, long> Of(Dictionary<string, Dictionary<string, long>> readings, string listener) =>
        readings.TryGetValue(listener, out var values) ? values : readings[listener] = new(StringComparer.Ordinal);
}
