using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Load;

internal enum LoadMode
{
    PingPong,
    Stream,
    Churn,
    Hold,
    Udp,
    Chat,
}

internal enum ChatDialect
{
    EchoHost,
    Irc,
}

/// <summary>
/// A server to connect to: its address, and the host name as given (the TLS server name, SNI); for a
/// <c>ws://</c> or <c>wss://</c> target, the WebSocket URL too (over TLS when <c>wss</c>).
/// </summary>
internal sealed record LoadTarget(IPEndPoint EndPoint, string Host, Uri? WebSocket = null)
{
    public bool IsWebSocket => WebSocket is not null;

    public bool IsSecureWebSocket => WebSocket?.Scheme == "wss";
}

/// <summary>What one load run does; parsed from the command line or built by the benchmark.</summary>
internal sealed record LoadOptions
{
    public required LoadMode Mode { get; init; }

    /// <summary>The (first) server.</summary>
    public required IPEndPoint Target { get; init; }

    /// <summary>Chat: the servers users connect to, in turn (user i to target i mod count); empty means <see cref="Target"/> alone.</summary>
    public IReadOnlyList<LoadTarget> Targets { get; init; } = [];

    /// <summary>TCP modes: TLS over each connection (TLS 1.2 or 1.3).</summary>
    public bool Tls { get; init; }

    /// <summary>With <see cref="Tls"/>: check the server's certificate (chain and name) instead of accepting any.</summary>
    public bool TlsVerify { get; init; }

    /// <summary>The target as the user wrote it, for reports.</summary>
    public string TargetText { get; init; } = "";

    public int Connections { get; init; } = 1;

    public int Size { get; init; } = 64;

    /// <summary>How long the measured phase lasts; ignored when <see cref="Count"/> is set (except by hold, where it is the hold time).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Operations in the measured phase (messages, writes, connections, datagrams, chat lines sent); 0 = use the duration.</summary>
    public long Count { get; init; }

    /// <summary>Operations per second over all connections (chat: lines per second over all users); 0 = as fast as possible.</summary>
    public double Rate { get; init; }

    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    public IReadOnlyList<IPAddress> Sources { get; init; } = [];

    /// <summary>An operation (or a UDP reply) not done within this is an error (or a lost datagram).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool AllowLoss { get; init; }

    public ChatDialect Dialect { get; init; } = ChatDialect.EchoHost;

    public string? Room { get; init; }

    public bool Json { get; init; }

    public bool Progress { get; init; }

    /// <summary>The chat room: the option, else lobby (EchoHost) or #load (IRC).</summary>
    public string RoomName => Room ?? (Dialect == ChatDialect.Irc ? "#load" : "lobby");

    public static string ModeName(LoadMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>Where connection (or chat user) number <paramref name="index"/> goes.</summary>
    public LoadTarget TargetFor(long index) =>
        Targets.Count == 0 ? new LoadTarget(Target, Target.Address.ToString()) : Targets[(int)(index % Targets.Count)];
}

/// <summary>A command-line mistake: one line for the user, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

internal static class LoadOptionsParser
{
    public static LoadOptions Parse(LoadMode mode, IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        string[] valued = ["--target", "--connections", "--size", "--duration", "--count", "--rate", "--warmup", "--sources", "--timeout", "--dialect", "--room"];
        string[] flagNames = ["--json", "--progress", "--allow-loss", "--tls", "--tls-verify"];
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            if (valued.Contains(arg))
            {
                if (inline is null && i + 1 >= args.Count)
                {
                    throw new UsageException($"{arg} needs a value");
                }

                values[arg] = inline ?? args[++i];
            }
            else if (flagNames.Contains(arg) && inline is null)
            {
                flags.Add(arg);
            }
            else
            {
                throw new UsageException($"unknown option '{args[i]}' for {LoadOptions.ModeName(mode)}; see echohost-load --help");
            }
        }

        if (mode != LoadMode.Chat && (values.ContainsKey("--dialect") || values.ContainsKey("--room")))
        {
            throw new UsageException("--dialect and --room apply to chat only");
        }

        var dialect = values.TryGetValue("--dialect", out var d)
            ? d.ToLowerInvariant() switch
            {
                "echohost" => ChatDialect.EchoHost,
                "irc" => ChatDialect.Irc,
                _ => throw new UsageException($"--dialect: '{d}' is not echohost or irc"),
            }
            : ChatDialect.EchoHost;
        var defaultPort = mode switch { LoadMode.Udp => 65400, LoadMode.Chat => dialect == ChatDialect.Irc ? 6667 : 65433, _ => 65432 };
        var targetText = values.GetValueOrDefault("--target") ?? $"localhost:{defaultPort}";
        var targets = targetText.Split(',', StringSplitOptions.TrimEntries).Select(ParseTarget).ToArray();
        if (targets.Any(t => t.IsWebSocket))
        {
            targets = WebSocketTarget.Check(targets, mode, dialect, flags.Contains("--tls"), flags.Contains("--tls-verify"));
        }

        if (targets.Length > 1 && mode != LoadMode.Chat)
        {
            throw new UsageException("--target: several targets (a,b) apply to chat only");
        }

        var target = targets[0].EndPoint;
        var defaults = Defaults(mode);
        var options = new LoadOptions
        {
            Mode = mode,
            Target = target,
            Targets = targets,
            TargetText = targetText,
            Connections = Int("--connections", values, defaults.Connections, 1, 1_000_000),
            Size = Int("--size", values, defaults.Size, mode == LoadMode.Udp ? 8 : mode == LoadMode.Chat ? 40 : 1, mode == LoadMode.Udp ? 65507 : mode == LoadMode.Chat ? 8192 : 1 << 30),
            Duration = Seconds("--duration", values, defaults.Duration),
            Count = values.ContainsKey("--count") ? Int("--count", values, 0, 1, int.MaxValue) : 0,
            Rate = values.TryGetValue("--rate", out var r) ? Positive("--rate", r) : 0,
            Warmup = Seconds("--warmup", values, TimeSpan.Zero, allowZero: true),
            Sources = values.TryGetValue("--sources", out var s) ? ParseSources(s, target.AddressFamily) : [],
            Timeout = Seconds("--timeout", values, mode == LoadMode.Udp ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10)),
            AllowLoss = flags.Contains("--allow-loss"),
            Tls = flags.Contains("--tls") || flags.Contains("--tls-verify"),
            TlsVerify = flags.Contains("--tls-verify"),
            Dialect = dialect,
            Room = values.GetValueOrDefault("--room"),
            Json = flags.Contains("--json"),
            Progress = flags.Contains("--progress"),
        };
        if (options.AllowLoss && mode != LoadMode.Udp)
        {
            throw new UsageException("--allow-loss applies to udp only");
        }

        if (options.Tls && mode == LoadMode.Udp)
        {
            throw new UsageException("--tls applies to the TCP modes only (not udp)");
        }

        if (mode == LoadMode.Chat && options.Connections < 2)
        {
            throw new UsageException("--connections: chat needs at least 2 users");
        }

        if (mode == LoadMode.Chat && options.Rate == 0)
        {
            options = options with { Rate = options.Connections * 0.4 };
        }

        // Unpaced, 16 sockets from one address outrun what a server answers per source (EchoHost's
        // PerSourceDatagramsPerSecond, 10,000 by default) and fail on the datagrams it rightly drops.
        if (mode == LoadMode.Udp && options.Rate == 0)
        {
            options = options with { Rate = UdpDefaultRatePerSource * Math.Max(1, options.Sources.Count) };
        }

        return options;
    }

    /// <summary>udp's default <c>--rate</c> per source address: under EchoHost's default per-source limit (10,000/s).</summary>
    public const int UdpDefaultRatePerSource = 8000;

    /// <summary>Per-mode defaults: connections, size, duration.</summary>
    public static (int Connections, int Size, TimeSpan Duration) Defaults(LoadMode mode) => mode switch
    {
        LoadMode.PingPong => (16, 64, TimeSpan.FromSeconds(10)),
        LoadMode.Stream => (4, 65536, TimeSpan.FromSeconds(10)),
        LoadMode.Churn => (16, 32, TimeSpan.FromSeconds(10)),
        LoadMode.Hold => (1000, 16, TimeSpan.FromSeconds(10)),
        LoadMode.Udp => (16, 512, TimeSpan.FromSeconds(10)),
        LoadMode.Chat => (50, 64, TimeSpan.FromSeconds(10)),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static LoadTarget ParseTarget(string text)
    {
        if (WebSocketTarget.IsUrl(text))
        {
            return WebSocketTarget.Parse(text);
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new UsageException($"--target: '{text}' is not host:port (port 1-65535), e.g. localhost:65432 or [::1]:7");
        }

        return new LoadTarget(Resolve(text[..colon].Trim('[', ']'), port), text[..colon].Trim('[', ']'));
    }

    /// <summary>The address of <paramref name="host"/> (IPv4 first) with <paramref name="port"/>.</summary>
    public static IPEndPoint Resolve(string host, int port)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException ex)
        {
            throw new UsageException($"--target: cannot resolve '{host}': {ex.Message}");
        }

        // IPv4 first: "localhost" then reaches servers that listen on 127.0.0.1 only, as nc -l does.
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new UsageException($"--target: '{host}' has no address");
        return new IPEndPoint(chosen, port);
    }

    /// <summary>A comma-separated list of addresses and ranges: <c>127.0.0.2-127.0.0.9,127.0.1.1</c> or <c>127.0.0.2-9</c>.</summary>
    public static IReadOnlyList<IPAddress> ParseSources(string text, AddressFamily family)
    {
        var result = new List<IPAddress>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                result.Add(Address(part));
                continue;
            }

            var first = Address(part[..dash]);
            var lastText = part[(dash + 1)..];
            if (first.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new UsageException($"--sources: ranges are for IPv4 only ('{part}')");
            }

            var firstBytes = first.GetAddressBytes();
            var last = lastText.Contains('.') ? Address(lastText) : Address($"{firstBytes[0]}.{firstBytes[1]}.{firstBytes[2]}.{lastText}");
            var from = ToUInt(first);
            var to = ToUInt(last);
            if (to < from || to - from > 65535)
            {
                throw new UsageException($"--sources: '{part}' is not an ascending range of at most 65536 addresses");
            }

            for (var a = from; a <= to; a++)
            {
                result.Add(new IPAddress([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]));
            }
        }

        if (result.Count == 0)
        {
            throw new UsageException("--sources: no address given");
        }

        if (result.Any(a => a.AddressFamily != family))
        {
            throw new UsageException($"--sources: every source must be {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} like the target");
        }

        return result;

        static IPAddress Address(string text) =>
            IPAddress.TryParse(text, out var address) ? address : throw new UsageException($"--sources: '{text}' is not an IP address");

        static uint ToUInt(IPAddress address)
        {
            var b = address.GetAddressBytes();
            return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        }
    }

    private static int Int(string name, Dictionary<string, string> values, int fallback, int min, int max)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        var multiplier = 1;
        if (text.EndsWith("KiB", StringComparison.OrdinalIgnoreCase) || text.EndsWith('k') || text.EndsWith('K'))
        {
            multiplier = 1024;
            text = text.TrimEnd('B', 'b', 'i', 'I').TrimEnd('k', 'K');
        }
        else if (text.EndsWith("MiB", StringComparison.OrdinalIgnoreCase) || text.EndsWith('m') || text.EndsWith('M'))
        {
            multiplier = 1024 * 1024;
            text = text.TrimEnd('B', 'b', 'i', 'I').TrimEnd('m', 'M');
        }

        if (!long.TryParse(text.Replace("_", "").Replace(",", ""), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value * multiplier < min || value * multiplier > max)
        {
            throw new UsageException($"{name}: '{values[name]}' is not a whole number from {min} to {max}");
        }

        return (int)(value * multiplier);
    }

    private static double Positive(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && double.IsFinite(value)
            ? value
            : throw new UsageException($"{name}: '{text}' is not a positive number");

    /// <summary>Seconds as a number (<c>2.5</c>) or with a unit (<c>500ms</c>, <c>10s</c>, <c>2m</c>).</summary>
    private static TimeSpan Seconds(string name, Dictionary<string, string> values, TimeSpan fallback, bool allowZero = false) =>
        values.TryGetValue(name, out var text) ? Duration(name, text, allowZero) : fallback;

    /// <summary>The value <paramref name="text"/> of option <paramref name="name"/> as a duration; a bad one is a usage error naming the option.</summary>
    internal static TimeSpan Duration(string name, string text, bool allowZero = false)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0 || (value == 0 && !allowZero) || value * scale > 86400 * 7)
        {
            throw new UsageException($"{name}: '{text}' is not a duration such as 10, 2.5s, 500ms or 2m");
        }

        return TimeSpan.FromSeconds(value * scale);
    }
}
