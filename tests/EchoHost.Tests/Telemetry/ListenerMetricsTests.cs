using System.Diagnostics.Metrics;
using EchoHost.Telemetry;

namespace EchoHost.Tests.Telemetry;

public sealed class ListenerMetricsTests
{
    /// <summary>
    /// A connection's opening and closing only move the listener's own fields; the counts reach the meter when it
    /// is collected. A measurement per event costs the SDK a tag lookup each time, three per short connection.
    /// </summary>
    [Fact]
    public void Connections_make_no_measurement_until_collection_which_reads_the_counts()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new EchoHostMetrics(services.GetRequiredService<IMeterFactory>());
        var echo = metrics.ForListener("Echo", "echo");
        echo.DeclareConnectionSeries(["limit"]);
        var chat = metrics.ForListener("Chat", "chat");
        chat.DeclareConnectionSeries(["limit"]);

        var measurements = new List<(string Instrument, long Value, string? Listener)>();
        var collecting = false;
        var eventsMeasured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EchoHostMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (!collecting)
            {
                eventsMeasured++;
                return;
            }

            string? name = null;
            foreach (var tag in tags)
            {
                if (tag.Key == ListenerMetrics.ListenerTag)
                {
                    name = (string?)tag.Value;
                }
            }

            measurements.Add((instrument.Name, value, name));
        });
        listener.Start();

        for (var i = 0; i < 1_000; i++)
        {
            echo.ConnectionOpened();
            echo.ConnectionClosed();
        }

        echo.ConnectionOpened();
        chat.ConnectionOpened();
        chat.ConnectionOpened();
        chat.ConnectionClosed();

        Assert.Equal(0, eventsMeasured);
        collecting = true;
        listener.RecordObservableInstruments();
        Assert.Contains(("echohost.connections.opened", 1_001L, "Echo"), measurements);
        Assert.Contains(("echohost.connections.active", 1L, "Echo"), measurements);
        Assert.Contains(("echohost.connections.opened", 2L, "Chat"), measurements);
        Assert.Contains(("echohost.connections.active", 1L, "Chat"), measurements);
    }
}
