using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoHost.Configuration;
using EchoHost.Udp;
using Microsoft.Extensions.Options;

namespace EchoHost.Hosting;

/// <summary>
/// Turns whatever stopped the host from starting into one line a user can act on: the key or listener at fault and
/// what to do. Never a stack trace.
/// </summary>
internal static partial class StartupErrors
{
    public static IReadOnlyList<string> Describe(Exception exception, IServiceProvider? services)
    {
        var ex = Unwrap(exception);
        return ex switch
        {
            OptionsValidationException validation => validation.Failures.Select(f => $"EchoHost: configuration error: {f}").ToArray(),
            UdpBindException udp => [DescribeUdpBind(udp, services)],
            IOException io when BindFailure().Match(io.Message) is { Success: true } match => [DescribeBind(match, io, services)],
            SocketException socket when socket.SocketErrorCode == SocketError.AddressNotAvailable => [DescribeUnavailableAddress(socket, services)],
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

    /// <summary>Kestrel: "Failed to bind to address http://127.0.0.1:65432: address already in use."</summary>
    [GeneratedRegex(@"^Failed to bind to address \w+://(?<host>.+):(?<port>\d+)(: (?<why>.+?))?\.?$")]
    private static partial Regex BindFailure();

    private static string DescribeBind(Match match, IOException io, IServiceProvider? services)
    {
        var port = int.Parse(match.Groups["port"].Value);
        var endpoint = $"{match.Groups["host"].Value}:{port}";
        var why = match.Groups["why"].Success ? match.Groups["why"].Value : OneLine(io.InnerException?.Message ?? "bind failed");
        var registry = services?.GetService<ListenerRegistry>();
        var owner = registry?.TcpListeners.FirstOrDefault(l => l.Port == port) is { } listener
            ? $"listener '{listener.Name}' ({listener.ConfigPath}:Port = {port})"
            : registry is not null && registry.Options.Http.Port == port
                ? $"the HTTP endpoint ({EchoHostOptions.SectionName}:Http:Port = {port})"
                : $"port {port}";
        return CannotListen(owner, endpoint, why);
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

    /// <summary>A UDP listener's socket would not bind: the same lines as for TCP, with the endpoint marked <c>/udp</c>.</summary>
    private static string DescribeUdpBind(UdpBindException udp, IServiceProvider? services)
    {
        var listener = udp.Listener;
        var endpoint = $"{udp.EndPoint}/udp";
        if (udp.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            var ownAddress = services?.GetService<ListenerRegistry>()?.Options.Listeners.GetValueOrDefault(listener.Name)?.Address is not null;
            var key = ownAddress ? $"{listener.ConfigPath}:Address" : $"{EchoHostOptions.SectionName}:Address";
            return $"EchoHost: cannot listen: listener '{listener.Name}' ({key} = {listener.Address}): {endpoint}: "
                + $"{OneLine(udp.InnerException?.Message)}; use an address this machine has, * or localhost";
        }

        // Worded as Kestrel words the same failures, so TCP and UDP lines read alike.
        var why = udp.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "address already in use",
            SocketError.AccessDenied => "permission denied",
            _ => OneLine(udp.InnerException?.Message),
        };
        return CannotListen($"listener '{listener.Name}' ({listener.ConfigPath}:Port = {listener.Port})", endpoint, why);
    }

    /// <summary>Binding to an IP this machine does not have: name the endpoints configured with such an address.</summary>
    private static string DescribeUnavailableAddress(SocketException socket, IServiceProvider? services)
    {
        var registry = services?.GetService<ListenerRegistry>();
        var local = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .ToHashSet();
        bool Missing(BindAddress address) => address.Kind == BindAddressKind.Ip
            && !address.Ip!.Equals(IPAddress.Any) && !address.Ip.Equals(IPAddress.IPv6Any) && !local.Contains(address.Ip);

        var owners = new List<string>();
        if (registry is not null)
        {
            owners.AddRange(registry.TcpListeners.Where(l => Missing(l.Address))
                .Select(l => $"listener '{l.Name}' ({l.ConfigPath}:Address or {EchoHostOptions.SectionName}:Address = {l.Address})"));
            var http = ListenerDefinition.HttpAddress(registry.Options);
            if (registry.Options.Http.Enabled && Missing(http))
            {
                owners.Add($"the HTTP endpoint ({EchoHostOptions.SectionName}:Http:Address or {EchoHostOptions.SectionName}:Address = {http})");
            }
        }

        var who = owners.Count > 0 ? string.Join(", ", owners) : "an endpoint";
        return $"EchoHost: cannot listen: {who}: {OneLine(socket.Message)}; use an address this machine has, * or localhost";
    }

    private static string OneLine(string? text) =>
        text is null ? string.Empty : string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
