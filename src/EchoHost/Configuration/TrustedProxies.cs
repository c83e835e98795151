using System.Net;

namespace EchoHost.Configuration;

/// <summary>
/// The addresses allowed to send a PROXY protocol header: CIDR ranges (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) or single
/// addresses, parsed and checked here; the PROXY protocol middleware matches a peer against them (Pipeline/TrustedProxyMatch).
/// </summary>
internal sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    private TrustedProxies(IPNetwork[] networks) => _networks = networks;

    public static TrustedProxies None { get; } = new([]);

    public IReadOnlyList<IPNetwork> Networks => _networks;

    /// <summary>Parses one entry; <paramref name="error"/> says what is wrong when it returns false.</summary>
    public static bool TryParseEntry(string? text, out IPNetwork network, out string error)
    {
        network = default;
        error = string.Empty;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = "empty; write a CIDR such as 10.0.0.0/8 or an address such as 127.0.0.1";
            return false;
        }

        if (!trimmed.Contains('/'))
        {
            if (IPAddress.TryParse(trimmed, out var address) && IsLiteral(trimmed, address))
            {
                network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
                return true;
            }

            error = $"'{trimmed}' is not an IP address or CIDR; write one such as 10.0.0.0/8 or 127.0.0.1";
            return false;
        }

        var slash = trimmed.IndexOf('/');
        if (IPAddress.TryParse(trimmed[..slash], out var baseAddress) && IsLiteral(trimmed[..slash], baseAddress)
            && int.TryParse(trimmed[(slash + 1)..], System.Globalization.NumberStyles.None, null, out var prefix)
            && prefix <= (baseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            // "10.0.0.1/8" is most likely a typo for a single address or a network: say so rather than guess.
            if (!Mask(baseAddress, prefix).Equals(baseAddress))
            {
                error = $"'{trimmed}' has bits set after the /{prefix} prefix; write the network address, such as {Mask(baseAddress, prefix)}/{prefix}";
                return false;
            }

            network = new IPNetwork(baseAddress, prefix);
            return true;
        }

        error = $"'{trimmed}' is not an IP address or CIDR; write one such as 10.0.0.0/8 or 127.0.0.1";
        return false;
    }

    /// <summary>The entries, which the validator has already checked.</summary>
    public static TrustedProxies Parse(IEnumerable<string>? entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries ?? [])
        {
            if (TryParseEntry(entry, out var network, out _))
            {
                networks.Add(network);
            }
        }

        return networks.Count == 0 ? None : new TrustedProxies([.. networks]);
    }

    public override string ToString() => string.Join(", ", _networks);

    /// <summary><see cref="IPAddress.TryParse(string, out IPAddress)"/> takes "10" or "10.1" as IPv4; a proxy list must not.</summary>
    private static bool IsLiteral(string text, IPAddress address) =>
        address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || text.Count(c => c == '.') == 3;

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }

        return new IPAddress(bytes);
    }
}
