using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Health;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// Turns whatever stopped the host from starting into one line a user can act on: the key or listener at fault and
/// what to do. Never a stack trace.
/// </summary>
internal static partial class StartupErrors
{
    /// <summary>
    /// A stop requested while the host was starting (Ctrl+C, SIGTERM): the host cancels the start, which is no failure
    /// to report. Only cancellation counts, and only once the stop was asked for; any other error is still one.
    /// </summary>
    public static bool IsStopRequest(Exception exception, IHostApplicationLifetime? lifetime) =>
        lifetime is { ApplicationStopping.IsCancellationRequested: true }
        && (exception is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.All(e => e is OperationCanceledException)
            : exception is OperationCanceledException);

    /// <summary>The lifecycle line for <see cref="IsStopRequest"/>, once whatever had started has stopped.</summary>
    public static void LogStoppedDuringStartup(IServiceProvider services) =>
        LogStoppedDuringStartup(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LifecycleLogger).FullName!));

    [LoggerMessage(Level = LogLevel.Information, Message = "EchoHost stopped during start-up: a stop was requested before it had started")]
    private static partial void LogStoppedDuringStartup(ILogger logger);

    public static IReadOnlyList<string> Describe(Exception exception, IServiceProvider? services)
    {
        var ex = Unwrap(exception);
        return ex switch
        {
            OptionsValidationException validation => validation.Failures.Select(ConfigurationErrors.Line).ToArray(),
            ListenerBindException bind => [DescribeBind(bind, services?.GetService<ListenerSet>())],
            SocketException socket when socket.SocketErrorCode == SocketError.AddressNotAvailable => [DescribeUnavailableAddress(socket, services)],
            InvalidDataException data when ConfigurationFileErrors.Describe(data) is { } file => [ConfigurationErrors.Line(file)],
            InvalidDataException data when data.Message.StartsWith("Failed to load configuration", StringComparison.Ordinal) =>
                [$"EchoHost: configuration error: {OneLine(data.Message)} {OneLine(data.InnerException?.Message)}".TrimEnd()],
            InvalidOperationException op when op.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase) =>
                [$"EchoHost: configuration error: {OneLine(op.Message)}"],
            _ => [$"EchoHost: failed to start: {OneLine(ex.Message)}"],
        };
    }

    private static Exception Unwrap(Exception exception)
    {
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        return exception;
    }

    private static string CannotListen(string owner, string endpoint, string why)
    {
        var hint = why.Contains("in use", StringComparison.OrdinalIgnoreCase)
            ? "; stop the program using it or choose another port"
            : why.Contains("permission", StringComparison.OrdinalIgnoreCase) || why.Contains("access", StringComparison.OrdinalIgnoreCase)
                ? "; ports below 1024 need privileges, choose a higher port"
                : string.Empty;
        return $"EchoHost: cannot listen: {owner}: {endpoint}: {why.TrimEnd('.')}{hint}";
    }

    /// <summary>A listener's socket would not bind: the listener, its key, the endpoint and what to do.</summary>
    private static string DescribeBind(ListenerBindException bind, ListenerSet? listeners)
    {
        var endpoint = bind.Transport == "udp" ? $"{bind.EndPoint}/udp" : bind.EndPoint.ToString();
        var port = bind.EndPoint.Port;
        if (bind.Listener is { } listener && bind.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            return $"EchoHost: cannot listen: listener '{listener.Name}' ({listener.AddressKey} = {listener.Address}): {endpoint}: "
                + $"{OneLine(bind.InnerException?.Message)}; use an address this machine has, * or localhost";
        }

        var owner = bind.Listener is { } owned
            ? $"listener '{owned.Name}' ({owned.ConfigPath}:Port = {port})"
            : listeners?.Http.Port == port
                ? $"the HTTP endpoint ({HttpEndpointDefinition.ConfigPath}:Port = {port})"
                : $"port {port}";
        // Worded as Kestrel words the same failures, so TCP and UDP lines read alike.
        var why = bind.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "address already in use",
            SocketError.AccessDenied => "permission denied",
            _ => OneLine(bind.InnerException?.Message),
        };
        return CannotListen(owner, endpoint, why);
    }

    /// <summary>Binding to an IP this machine does not have: name the endpoints configured with such an address.</summary>
    private static string DescribeUnavailableAddress(SocketException socket, IServiceProvider? services)
    {
        var listeners = services?.GetService<ListenerSet>();
        var local = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .ToHashSet();
        bool Missing(BindAddress address) => address.Kind == BindAddressKind.Ip
            && !address.Ip!.Equals(IPAddress.Any) && !address.Ip.Equals(IPAddress.IPv6Any) && !local.Contains(address.Ip);

        var owners = new List<string>();
        if (listeners is not null)
        {
            owners.AddRange(listeners.Tcp.Where(l => Missing(l.Address))
                .Select(l => $"listener '{l.Name}' ({l.ConfigPath}:Address or {EchoHostOptions.SectionName}:Address = {l.Address})"));
            if (listeners.Http.Enabled && Missing(listeners.Http.Address))
            {
                owners.Add($"the HTTP endpoint ({HttpEndpointDefinition.ConfigPath}:Address or {EchoHostOptions.SectionName}:Address = {listeners.Http.Address})");
            }
        }

        var who = owners.Count > 0 ? string.Join(", ", owners) : "an endpoint";
        return $"EchoHost: cannot listen: {who}: {OneLine(socket.Message)}; use an address this machine has, * or localhost";
    }

    private static string OneLine(string? text) =>
        text is null ? string.Empty : string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
