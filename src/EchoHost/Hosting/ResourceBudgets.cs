using System.Runtime.InteropServices;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// What bounds the memory and descriptors clients can take: the transport's buffers per connection, and the
/// process-wide budgets (Pipeline/MemoryBudget, Pipeline/DescriptorBudget) that refuse new connections before the
/// runtime or the kernel would fail.
/// </summary>
internal static class ResourceBudgets
{
    /// <summary>
    /// What Kestrel's transport reads ahead of a connection's handler before it stops reading the socket (Kestrel's
    /// default: 1 MiB). An echo client that sends and never reads held that, plus as much again copied into its
    /// output; the handlers consume what they can (chat and PROXY always, the HTTP endpoint's headers fit in 40 KiB,
    /// TLS records in 17), so 64 KiB, the size of Kestrel's output buffer, costs no protocol anything.
    /// </summary>
    public const int TransportInputBytes = 64 * 1024;

    public static IServiceCollection AddEchoHostBudgets(this IServiceCollection services)
    {
        services.Configure<SocketTransportOptions>(transport => transport.MaxReadBufferSize = TransportInputBytes);
        services.AddSingleton<TlsHandshakeMemory>();
        services.AddSingleton(sp =>
        {
            // Resolved now, not in the timer's callback, which may run once more while the host is being disposed.
            var handshakes = sp.GetRequiredService<TlsHandshakeMemory>();
            return new MemoryBudget(
                MemoryBudgetBytes(sp.GetRequiredService<IOptions<EchoHostOptions>>().Value),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("EchoHost.Budgets"),
                openConnections: sp.GetRequiredService<ConnectionRegistry>().Snapshot,
                outsideHeapBytes: () => handshakes.Bytes);
        });
        services.AddSingleton(sp => new DescriptorBudget(sp.GetRequiredService<ILoggerFactory>().CreateLogger("EchoHost.Budgets")));
        services.AddHostedService<ResourceBudgetStartup>();
        return services;
    }

    /// <summary>The memory budget in bytes: as configured, or its share of the memory the GC may use; 0 means none.</summary>
    public static long MemoryBudgetBytes(EchoHostOptions options) =>
        options.MemoryBudgetBytes ?? (long)(MemoryBudget.AvailableBytes * options.MemoryBudgetPercent / 100);
}

/// <summary>
/// At start, before Kestrel binds: raises the soft open-file limit to the hard one, as Go's runtime does (Linux only).
/// Once everything is bound: gives the descriptor budget the limit, and says in one line when the limit is lower than
/// what the connection caps allow, and what to change.
/// </summary>
internal sealed partial class ResourceBudgetStartup(
    ListenerSet listeners, MemoryBudget memory, DescriptorBudget descriptors, TimeProvider time, ILogger<ResourceBudgetStartup> logger)
    : IHostedLifecycleService
{
    private long _softBefore;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _softBefore = OpenFileLimit.RaiseSoftToHard();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var options = listeners.Options;
        if (memory.BudgetBytes > 0)
        {
            LogMemoryBudget(memory.BudgetBytes >> 20, MemoryBudget.AvailableBytes >> 20);
        }

        var limit = OpenFileLimit.Soft();
        descriptors.Configure(limit, options.DescriptorReserve, time);
        if (limit <= 0 || descriptors.Capacity == int.MaxValue)
        {
            return Task.CompletedTask;
        }

        var caps = listeners.Tcp.Select(l => (Key: $"{l.ConfigPath}:MaxConnections", Max: l.MaxConnections)).ToList();
        if (listeners.Http.Enabled)
        {
            caps.Add(($"{HttpEndpointDefinition.ConfigPath}:MaxConnections", listeners.Http.MaxConnections));
        }

        var others = limit - options.DescriptorReserve - descriptors.Capacity;
        if (caps.FirstOrDefault(c => c.Max == 0) is { Key: not null } unlimited)
        {
            LogUnlimited(limit, _softBefore, descriptors.Capacity, unlimited.Key);
        }
        else if (caps.Sum(c => (long)c.Max) is var allowed && allowed > descriptors.Capacity)
        {
            LogTooLow(limit, _softBefore, descriptors.Capacity, allowed, string.Join(" + ", caps.Select(c => $"{c.Key} {c.Max}")),
                allowed + others + options.DescriptorReserve);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Memory budget {BudgetMiB} MiB of GC heap ({AvailableMiB} MiB available to the GC); above it no new connection is admitted (reason memory)")]
    private partial void LogMemoryBudget(long budgetMiB, long availableMiB);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "The open-file limit ({Limit}, was {Before} before EchoHost raised it to the hard limit) leaves room for {Capacity} client connections, fewer than the caps allow ({Allowed}: {Caps}); beyond it no new connection is admitted (reason descriptors). To serve them all, raise the open-file limit to at least {Needed} (ulimit -n, LimitNOFILE= in systemd, --ulimit nofile= in Docker) or lower MaxConnections")]
    private partial void LogTooLow(long limit, long before, int capacity, long allowed, string caps, long needed);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "The open-file limit ({Limit}, was {Before} before EchoHost raised it to the hard limit) leaves room for {Capacity} client connections, and {Key} is 0 (no limit); beyond it no new connection is admitted (reason descriptors). To serve more, raise the open-file limit (ulimit -n, LimitNOFILE= in systemd, --ulimit nofile= in Docker)")]
    private partial void LogUnlimited(long limit, long before, int capacity, string key);
}

/// <summary>The process's open-file limit (RLIMIT_NOFILE) on Linux; elsewhere nothing is known or changed.</summary>
internal static class OpenFileLimit
{
    private const int RlimitNofile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    /// <summary>The soft limit; 0 when unknown, <see cref="long.MaxValue"/> when unlimited.</summary>
    public static long Soft() => OperatingSystem.IsLinux() && getrlimit(RlimitNofile, out var limit) == 0 ? Clamp(limit.Current) : 0;

    /// <summary>Raises the soft limit to the hard one; returns the soft limit before (0 when unknown).</summary>
    public static long RaiseSoftToHard()
    {
        if (!OperatingSystem.IsLinux() || getrlimit(RlimitNofile, out var limit) != 0)
        {
            return 0;
        }

        var before = limit.Current;
        if (limit.Current < limit.Max)
        {
            limit.Current = limit.Max;
            _ = setrlimit(RlimitNofile, ref limit);
        }

        return Clamp(before);
    }

    private static long Clamp(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);
}
