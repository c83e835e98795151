using EchoHost.Telemetry;

namespace EchoHost.Tests.Telemetry;

public sealed class PrometheusNamingTests
{
    [Theory]
    [InlineData("echohost.connections.opened", "{connection}", "Counter", "echohost_connections_opened_total")]
    [InlineData("echohost.io.received", "By", "Counter", "echohost_io_received_bytes_total")]
    [InlineData("echohost.connection.duration", "s", "Histogram", "echohost_connection_duration_seconds")]
    [InlineData("echohost.connections.active", "{connection}", "Gauge", "echohost_connections_active")]
    [InlineData("process.cpu.utilization", "1", "Gauge", "process_cpu_utilization")]
    [InlineData("http.requests.total", null, "Counter", "http_requests_total")]
    [InlineData("db.read_bytes_total", "By", "Counter", "db_read_bytes_total")]
    [InlineData("queue.wait_seconds", "s", "Gauge", "queue_wait_seconds")]
    [InlineData("memory", "MiBy", "Gauge", "memory_mebibytes")]
    [InlineData("speed", "m/s", "Gauge", "speed_meters_per_second")]
    [InlineData("load", "%", "Gauge", "load_percent")]
    [InlineData("packets", "{packet}/s", "Gauge", "packets_per_second")]
    [InlineData("odd", "foo{bar", "Gauge", "odd_foo_bar")]
    [InlineData("héllo wörld", null, "Gauge", "h_llo_w_rld")]
    [InlineData("a:b", null, "Gauge", "a:b")]
    [InlineData("9lives", null, "Gauge", "_lives")]
    [InlineData("dotnet.timer.count", "{timer}", "Gauge", "dotnet_timer_count_current")]
    public void Metric_names_follow_the_official_exporter(string name, string? unit, string type, string expected) =>
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, Enum.Parse<PrometheusType>(type)));

    [Theory]
    [InlineData("echohost.listener", "echohost_listener")]
    [InlineData("", "_")]
    [InlineData("7days", "_7days")]
    [InlineData("a__b", "a__b")]
    [InlineData("a_.b", "a_b")]
    [InlineData("a..b", "a_b")]
    public void Label_names_are_sanitised(string key, string expected) => Assert.Equal(expected, PrometheusNaming.LabelName(key));

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.005, "0.005")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(100000.0, "100000.0")]
    [InlineData(1000000.0, "1e+06")]
    [InlineData(123456789.0, "1.23456789e+08")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    public void Floating_point_label_values_are_canonical(double value, string expected) =>
        Assert.Equal(expected, PrometheusNaming.CanonicalNumber(value));
}
