using System.Net;
using EchoHost.Health;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EchoHost.Tests.Health;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Healthz_and_readyz_are_200_once_the_listeners_are_bound()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();

        using var healthz = await http.GetAsync("healthz");
        using var readyz = await http.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal("Healthy", await healthz.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
    }

    [Fact]
    public async Task Readiness_fails_before_the_listeners_are_bound()
    {
        await using var host = TestHost.Create();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var before = await health.CheckHealthAsync(check => check.Tags.Contains("ready"));
        await host.StartAppAsync();
        var after = await health.CheckHealthAsync(check => check.Tags.Contains("ready"));

        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Equal("waiting for Echo (not bound yet)", before.Entries["listeners"].Description);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task Readyz_is_503_while_a_listener_reports_a_failure()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();
        var readiness = host.Services.GetRequiredService<IListenerEndpoints>();
        var bound = host.EndPoint();

        readiness.MarkFailed("Echo", "bind failed");
        using var failing = await http.GetAsync("readyz");
        readiness.MarkBound("Echo", [bound]);
        using var recovered = await http.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        Assert.Equal("Unhealthy", await failing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Readyz_is_503_from_the_moment_shutdown_starts()
    {
        await using var host = await TestHost.StartAsync();
        using var http = host.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);

        // Stopping callbacks run before Kestrel stops listening: ask /readyz from inside one, as a load balancer would.
        HttpStatusCode? duringShutdown = null;
        string? liveness = null;
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() =>
        {
            using var response = http.GetAsync("readyz").GetAwaiter().GetResult();
            duringShutdown = response.StatusCode;
            liveness = http.GetStringAsync("healthz").GetAwaiter().GetResult();
        });
        await host.StopAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, duringShutdown);
        Assert.Equal("Healthy", liveness);
    }
}
