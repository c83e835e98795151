using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using EchoHost.Telemetry;

namespace EchoHost.Tests.Telemetry;

public sealed class ListenerMetricsTests
{
    /// <summary>Every <c>long</c> instrument of the EchoHost meter: a connection event must reach none of them before collection.</summary>
    private static readonly string[] LongInstruments =
    [
        "echohost.connections.active", "echohost.connections.opened", "echohost.io.received", "echohost.io.sent",
        "echohost.connections.refused", "echohost.connections.idle_timeouts",
        "echohost.chat.users", "echohost.chat.rooms", "echohost.chat.messages.delivered", "echohost.chat.lines.dropped",
        "echohost.chat.slow_readers.disconnected",
        "echohost.udp.datagrams.received", "echohost.udp.datagrams.sent", "echohost.udp.io.received", "echohost.udp.io.sent",
        "echohost.udp.datagrams.dropped",
    ];

    /// <summary>
    /// A connection's opening and closing only move the listener's own fields; the counts reach the meter when it
    /// is collected. A measurement per event costs the SDK a tag lookup each time, three per short connection.
    /// </summary>
    [Fact]
    public void Connections_make_no_measurement_until_collection_which_reads_the_counts()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var metrics = new EchoHostMetrics(meterFactory);
        var echo = metrics.ForListener("Echo", "echo");
        echo.DeclareConnectionSeries(["limit"]);
        var chat = metrics.ForListener("Chat", "chat");
        chat.DeclareConnectionSeries(["limit"]);

        var collectors = LongInstruments.Select(name => new MetricCollector<long>(meterFactory, EchoHostMetrics.MeterName, name)).ToList();
        try
        {
            for (var i = 0; i < 1_000; i++)
            {
                echo.ConnectionOpened();
                echo.ConnectionClosed();
            }

            echo.ConnectionOpened();
            chat.ConnectionOpened();
            chat.ConnectionOpened();
            chat.ConnectionClosed();

            Assert.Equal(0, collectors.Sum(collector => collector.GetMeasurementSnapshot().Count));
            foreach (var collector in collectors)
            {
                collector.RecordObservableInstruments();
            }

            var measurements = collectors
                .SelectMany(collector => collector.GetMeasurementSnapshot().Select(measurement =>
                    (collector.Instrument?.Name, measurement.Value, measurement.Tags.GetValueOrDefault(ListenerMetrics.ListenerTag) as string)))
                .ToList();
            Assert.Contains(("echohost.connections.opened", 1_001L, "Echo"), measurements);
            Assert.Contains(("echohost.connections.active", 1L, "Echo"), measurements);
            Assert.Contains(("echohost.connections.opened", 2L, "Chat"), measurements);
            Assert.Contains(("echohost.connections.active", 1L, "Chat"), measurements);
        }
        finally
        {
            collectors.ForEach(collector => collector.Dispose());
        }
    }
}
