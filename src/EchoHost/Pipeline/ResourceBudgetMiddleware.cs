using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Pipeline;

/// <summary>
/// First on every connection of every endpoint, the HTTP endpoint's included: the process-wide budgets admit it or
/// refuse it (reason <c>memory</c> or <c>descriptors</c>), which makes Kestrel close the socket at once. The budgets
/// log once per episode, not per connection: under a flood, a line per refusal would be a flood of its own.
/// </summary>
internal sealed class ResourceBudgetMiddleware(ConnectionDelegate next, MemoryBudget memory, DescriptorBudget descriptors, ListenerMetrics metrics)
{
    /// <summary>The refusals an endpoint can count from the budgets, as the <c>reason</c> tag names them.</summary>
    public static IReadOnlyList<string> TagValues { get; } = [MemoryBudget.Reason, DescriptorBudget.Reason];

    private static readonly Func<object, Task> Release = static budget =>
    {
        ((DescriptorBudget)budget).Release();
        return Task.CompletedTask;
    };

    public Task InvokeAsync(ConnectionContext connection)
    {
        if (!memory.TryAdmit(out var reason) || !descriptors.TryAcquire(out reason))
        {
            metrics.ConnectionRefused(reason);
            return Task.CompletedTask;
        }

        return next.ThenOnEnd(connection, Release, descriptors);
    }
}
