using System.Diagnostics.Metrics;
using EchoHost.Telemetry;

namespace EchoHost.Tests.Infrastructure;

internal static class TestMetrics
{
    /// <summary>A listener's metrics on a meter of their own, for units that need somewhere to report.</summary>
    public static ListenerMetrics Listener(string name = "Echo", string protocol = "echo")
    {
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new EchoHostMetrics(meterFactory).ForListener(name, protocol);
    }
}
