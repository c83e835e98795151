using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace EchoHost.Health;

internal static class HealthSetup
{
    /// <summary>Where listeners report their endpoints, and the readiness check built on it.</summary>
    public static void AddEchoHostHealth(this IServiceCollection services)
    {
        services.AddSingleton<ListenerEndpoints>();
        services.AddSingleton<IListenerEndpoints>(sp => sp.GetRequiredService<ListenerEndpoints>());
        services.AddHealthChecks().AddCheck<ReadinessHealthCheck>("listeners", tags: [ReadinessHealthCheck.Tag]);
        // The health check service logs every unhealthy evaluation as an error: each /readyz probe during start-up or
        // a shutdown drain would add one. Readiness is what /readyz serves; start and shutdown have their own lines.
        services.Configure<LoggerFilterOptions>(options =>
            options.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.None));
    }

    /// <summary><c>GET /healthz</c> (liveness: the process answers) and <c>GET /readyz</c> (readiness).</summary>
    public static void MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadinessHealthCheck.Tag) });
    }
}
