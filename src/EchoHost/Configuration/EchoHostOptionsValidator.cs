using Microsoft.Extensions.Options;

namespace EchoHost.Configuration;

/// <summary>
/// Checks <c>EchoHost</c> at start. Every failure is one line that begins with the configuration key at fault,
/// so a user knows exactly what to edit.
/// </summary>
/// <remarks>
/// This checks the shape shared by every protocol — the listener set, the shared per-listener limits (idle, caps,
/// TLS, PROXY, banner, UDP safety) — and asks the <see cref="ProtocolRegistry"/> for the rest: the protocol names,
/// their transports, and each protocol's own checks of its section and its listeners.
/// </remarks>
/// <param name="configuration">
/// Where the values came from: a failure of a value an environment variable set also names that variable, as the shape
/// check does.
/// </param>
internal sealed class EchoHostOptionsValidator(ProtocolRegistry protocols, IConfiguration? configuration = null) : IValidateOptions<EchoHostOptions>
{
    private const string Root = EchoHostOptions.SectionName;
    private const int MaxBannerLength = 1024;
    private const long MinMemoryBudgetBytes = 16L << 20;
    private const int MinDescriptorReserve = 32;

    public ValidateOptionsResult Validate(string? name, EchoHostOptions options)
    {
        var failures = new List<string>();

        if (!BindAddress.TryParse(options.Address, out _))
        {
            failures.Add($"{Root}:Address: '{options.Address}' is not a bind address; use *, localhost or an IP literal such as 0.0.0.0 or ::1");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add($"{Root}:ShutdownTimeout: must not be negative");
        }

        if (options.ShutdownDrainDelay < TimeSpan.Zero || options.ShutdownDrainDelay >= options.ShutdownTimeout && options.ShutdownDrainDelay > TimeSpan.Zero)
        {
            failures.Add($"{Root}:ShutdownDrainDelay: must be from 0 to less than ShutdownTimeout ({options.ShutdownTimeout}), which it is part of");
        }

        ValidateBudgets(options, failures);
        ValidateHttp(options, failures);
        foreach (var protocol in protocols.All)
        {
            protocol.ValidateOptions?.Invoke(options, failures);
        }

        ValidateOtlp(options.Otlp, failures);
        foreach (var (listenerName, listener) in options.Listeners)
        {
            ValidateListener(options, $"{Root}:Listeners:{listenerName}", listener, failures);
        }

        if (failures.Count == 0)
        {
            CheckPortConflicts(options, failures);
        }

        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => ConfigurationShape.NameTheSource(configuration, f)));
    }

    private static void ValidateHttp(EchoHostOptions options, List<string> failures)
    {
        var path = $"{Root}:Http";
        CheckPort(path, options.Http.Port, failures);
        CheckAddress(path, options.Http.Address, options.Http.Port, options.Address, failures);
        CheckConnectionLimits(path, options.Http.IdleTimeout, options.Http.MaxConnections, options.Http.MaxConnectionsPerIp, failures);
    }

    /// <summary>The process-wide budgets that shed new connections before memory or descriptors run out.</summary>
    private static void ValidateBudgets(EchoHostOptions options, List<string> failures)
    {
        if (options.MemoryBudgetPercent is not (0 or (>= 10 and <= 95)))
        {
            failures.Add($"{Root}:MemoryBudgetPercent: {options.MemoryBudgetPercent} is out of range; use 10 to 95 (percent of the memory the GC may use), or 0 for no memory budget");
        }

        if (options.MemoryBudgetBytes is < MinMemoryBudgetBytes)
        {
            failures.Add($"{Root}:MemoryBudgetBytes: {options.MemoryBudgetBytes} is too small; use at least {MinMemoryBudgetBytes} (16 MiB), or remove it to use MemoryBudgetPercent");
        }

        // Measured: with no reserve, connections took every descriptor and the runtime aborted ("Out of memory.").
        if (options.DescriptorReserve < MinDescriptorReserve)
        {
            failures.Add($"{Root}:DescriptorReserve: {options.DescriptorReserve} is too small; use at least {MinDescriptorReserve}: at the open-file limit itself the .NET runtime aborts");
        }
    }

    private static void ValidateOtlp(OtlpOptions otlp, List<string> failures)
    {
        var path = $"{Root}:Otlp";
        if (!string.IsNullOrWhiteSpace(otlp.Endpoint)
            && !(Uri.TryCreate(otlp.Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            failures.Add($"{path}:Endpoint: '{otlp.Endpoint}' is not an http:// or https:// URL; use one such as http://localhost:4317");
        }

        if (!Enum.IsDefined(otlp.Protocol))
        {
            failures.Add($"{path}:Protocol: use Grpc or HttpProtobuf");
        }

        if (otlp.ExportInterval <= TimeSpan.Zero)
        {
            failures.Add($"{path}:ExportInterval: must be positive, such as 00:01:00");
        }
    }

    private void ValidateListener(EchoHostOptions options, string path, ListenerOptions listener, List<string> failures)
    {
        ProtocolRegistration? protocol = null;
        if (string.IsNullOrWhiteSpace(listener.Protocol))
        {
            failures.Add($"{path}:Protocol: missing; set one of {protocols.Names}");
        }
        else if (protocols.TryFind(listener.Protocol, out var found))
        {
            protocol = found;
        }
        else
        {
            failures.Add($"{path}:Protocol: unknown protocol '{listener.Protocol}'; use one of {protocols.Names}");
        }

        if (listener.Port is null)
        {
            failures.Add($"{path}:Port: missing; set a port from 0 to 65535");
        }
        else
        {
            CheckPort(path, listener.Port.Value, failures);
            CheckAddress(path, listener.Address, listener.Port.Value, options.Address, failures);
        }

        // Limits of the other transport would be silently ignored; with an unknown protocol there is nothing to say.
        if (protocol is not null)
        {
            RejectKeys(path, protocol, listener, failures);
            if (protocol.Transport == ListenerTransport.Tcp && !protocol.SendsBanner && listener.Banner is not null)
            {
                var greeters = string.Join(", ", protocols.All.Where(p => p.SendsBanner).Select(p => p.Name));
                failures.Add($"{path}:Banner: applies to {greeters} listeners only; remove it from this {protocol} listener");
            }

            foreach (var (key, owners) in protocols.ListenerKeysNotFor(protocol))
            {
                if (listener.Written.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    failures.Add($"{path}:{key}: applies to {owners} listeners only; remove it from this {protocol} listener");
                }
            }

            // The protocol checks the values of its own keys.
            if (protocol.ValidateListener is { } validate && (listener.Own ?? protocol.NewListenerOptions()) is { } own)
            {
                validate(path, own, failures);
            }
        }

        ValidateTcpLimits(path, listener, failures);
        ValidateUdpLimits(path, listener, failures);
        ValidateProxyProtocol(path, listener, failures);
        ValidateTls($"{path}:Tls", listener.Tls, failures);
    }

    private static void ValidateProxyProtocol(string path, ListenerOptions listener, List<string> failures)
    {
        if (listener.ProxyProtocol is { } mode && !Enum.IsDefined(mode))
        {
            failures.Add($"{path}:ProxyProtocol: use one of {string.Join(", ", Enum.GetNames<ProxyProtocolMode>())}");
        }

        for (var i = 0; i < listener.TrustedProxies?.Length; i++)
        {
            if (!TrustedProxies.TryParseEntry(listener.TrustedProxies[i], out _, out var error))
            {
                failures.Add($"{path}:TrustedProxies:{i}: {error}");
            }
        }

        if (listener.ProxyProtocol is not (null or ProxyProtocolMode.Off) && listener.TrustedProxies is null or { Length: 0 })
        {
            failures.Add($"{path}:TrustedProxies: missing; ProxyProtocol is {listener.ProxyProtocol}, so list the proxies allowed to send the header, "
                + "such as [ \"10.0.0.0/8\" ] or [ \"127.0.0.1\" ]");
        }

        if (listener.ProxyProtocolTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{path}:ProxyProtocolTimeout: must be positive, such as 00:00:05");
        }
    }

    private static void ValidateTls(string path, TlsOptions? tls, List<string> failures)
    {
        if (tls is null)
        {
            return;
        }

        var pem = !string.IsNullOrWhiteSpace(tls.CertificatePath);
        var pkcs12 = !string.IsNullOrWhiteSpace(tls.Pkcs12Path);
        if (pem && pkcs12)
        {
            failures.Add($"{path}:Pkcs12Path: set either CertificatePath (with KeyPath) or Pkcs12Path, not both");
        }
        else if (!pem && !pkcs12)
        {
            failures.Add($"{path}:CertificatePath: missing; set CertificatePath and KeyPath (PEM files) or Pkcs12Path");
        }

        if (!string.IsNullOrWhiteSpace(tls.KeyPath) && !pem)
        {
            failures.Add($"{path}:KeyPath: needs CertificatePath, the certificate of this key");
        }

        if (tls.HandshakeTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{path}:HandshakeTimeout: must be positive, such as 00:00:10");
        }

        if (tls.MaxHandshakesPerIp < 0)
        {
            failures.Add($"{path}:MaxHandshakesPerIp: must not be negative; use 0 for no limit");
        }

        if (tls.MaxHandshakes < 0)
        {
            failures.Add($"{path}:MaxHandshakes: must not be negative; use 0 for no limit");
        }
    }

    private static void RejectKeys(string path, ProtocolRegistration protocol, ListenerOptions listener, List<string> failures)
    {
        var ownTransport = protocol.Transport;
        var transport = ownTransport == ListenerTransport.Udp ? "TCP" : "UDP";
        foreach (var key in ListenerOptions.KeysNotFor(ownTransport))
        {
            if (typeof(ListenerOptions).GetProperty(key)!.GetValue(listener) is not null)
            {
                failures.Add($"{path}:{key}: applies to {transport} listeners only; remove it from this {protocol} listener");
            }
        }
    }

    /// <summary>The caps and idle rule a TCP listener and the HTTP endpoint share, under the same key names.</summary>
    private static void CheckConnectionLimits(string path, TimeSpan? idleTimeout, int? maxConnections, int? maxConnectionsPerIp, List<string> failures)
    {
        if (idleTimeout < TimeSpan.Zero)
        {
            failures.Add($"{path}:IdleTimeout: must not be negative; use 0 for no idle timeout");
        }

        if (maxConnections < 0)
        {
            failures.Add($"{path}:MaxConnections: must not be negative; use 0 for no limit");
        }

        if (maxConnectionsPerIp < 0)
        {
            failures.Add($"{path}:MaxConnectionsPerIp: must not be negative; use 0 for no limit");
        }
    }

    private static void ValidateTcpLimits(string path, ListenerOptions listener, List<string> failures)
    {
        CheckConnectionLimits(path, listener.IdleTimeout, listener.MaxConnections, listener.MaxConnectionsPerIp, failures);

        if (listener.Banner is { Length: > MaxBannerLength })
        {
            failures.Add($"{path}:Banner: longer than {MaxBannerLength} characters");
        }
        else if (listener.Banner is not null && BannerPlaceholders.FindUnknown(listener.Banner) is { } unknown)
        {
            failures.Add($"{path}:Banner: unknown placeholder {{{unknown}}}; use {string.Join(", ", BannerPlaceholders.Names.Select(p => $"{{{p}}}"))}");
        }
    }

    private static void ValidateUdpLimits(string path, ListenerOptions listener, List<string> failures)
    {
        if (listener.MaxDatagramBytes is < 1 or > ListenerOptions.MaxUdpPayload)
        {
            failures.Add($"{path}:MaxDatagramBytes: {listener.MaxDatagramBytes} is out of range; use 1 to {ListenerOptions.MaxUdpPayload}");
        }

        for (var i = 0; i < listener.DenySourcePorts?.Length; i++)
        {
            if (listener.DenySourcePorts[i] is < 0 or > 65535)
            {
                failures.Add($"{path}:DenySourcePorts:{i}: {listener.DenySourcePorts[i]} is out of range; use 0 to 65535");
            }
        }

        if (listener.PerSourceDatagramsPerSecond < 0)
        {
            failures.Add($"{path}:PerSourceDatagramsPerSecond: must not be negative; use 0 for no limit");
        }
    }

    private static void CheckPort(string path, int port, List<string> failures)
    {
        if (port is < 0 or > 65535)
        {
            failures.Add($"{path}:Port: {port} is out of range; use 0 to 65535 (0 picks a free port)");
        }
    }

    private static void CheckAddress(string path, string? address, int port, string defaultAddress, List<string> failures)
    {
        if (address is not null && !BindAddress.TryParse(address, out _))
        {
            failures.Add($"{path}:Address: '{address}' is not a bind address; use *, localhost or an IP literal such as 0.0.0.0 or ::1");
            return;
        }

        if (port == 0 && BindAddress.TryParse(address ?? defaultAddress, out var parsed) && parsed.Kind == BindAddressKind.Localhost)
        {
            var key = address is null ? $"{Root}:Address" : $"{path}:Address";
            failures.Add($"{path}:Port: 0 (a free port) cannot be used with localhost; set {key} to 127.0.0.1 or ::1");
        }
    }

    private void CheckPortConflicts(EchoHostOptions options, List<string> failures)
    {
        // Endpoints that would compete for one port: TCP (the HTTP endpoint and the TCP listeners) and UDP apart —
        // a UDP and a TCP listener can share a port number.
        var taken = new List<(string Owner, ListenerTransport Transport, BindAddress Address, int Port)>();
        var set = ListenerSet.Of(options, protocols);
        if (set.Http.Enabled)
        {
            taken.Add(("the HTTP endpoint", ListenerTransport.Tcp, set.Http.Address, set.Http.Port));
        }

        foreach (var listener in set.All)
        {
            var clash = taken.FirstOrDefault(t => t.Transport == listener.Transport && t.Port == listener.Port && listener.Port != 0
                && t.Address.Overlaps(listener.Address));
            if (clash.Owner is not null)
            {
                failures.Add($"{listener.ConfigPath}:Port: {listener.Port} is already used by {clash.Owner}; give each listener its own port");
            }

            taken.Add(($"listener '{listener.Name}'", listener.Transport, listener.Address, listener.Port));
        }
    }
}
