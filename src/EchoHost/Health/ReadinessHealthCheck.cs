using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EchoHost.Health;

/// <summary>The check behind <c>GET /readyz</c>: every enabled listener bound, and not shutting down.</summary>
internal sealed class ReadinessHealthCheck(ListenerEndpoints endpoints) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (ready, description) = endpoints.Readiness();
        return Task.FromResult(ready ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description));
    }
}
