using System.Net;

namespace EchoHost.Configuration;

internal enum BindAddressKind
{
    /// <summary><c>*</c>: every interface, IPv6 and IPv4.</summary>
    Any,
    /// <summary><c>localhost</c>: the IPv4 and IPv6 loopback addresses.</summary>
    Localhost,
    Ip,
}

/// <summary>A listener's bind address as a user writes it: <c>*</c>, <c>localhost</c>, or an IP literal.</summary>
internal readonly record struct BindAddress(BindAddressKind Kind, IPAddress? Ip)
{
    public static BindAddress Any => new(BindAddressKind.Any, null);

    public static BindAddress Localhost => new(BindAddressKind.Localhost, null);

    public static bool TryParse(string? text, out BindAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed == "*")
        {
            address = Any;
            return true;
        }

        if (string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = Localhost;
            return true;
        }

        // "[::1]" is how IPv6 literals are written next to a port; accept it without the port.
        if (trimmed.StartsWith('[') && trimmed.EndsWith(']'))
        {
            trimmed = trimmed[1..^1];
        }

        // IPAddress.TryParse also accepts "1" or "1.2" as IPv4 shorthands; only plain literals count here.
        if (IPAddress.TryParse(trimmed, out var ip) && (trimmed.Contains(':') || trimmed.Count(c => c == '.') == 3))
        {
            address = new BindAddress(BindAddressKind.Ip, ip);
            return true;
        }

        return false;
    }

    /// <summary>Whether two listeners on these addresses would compete for the same port.</summary>
    public bool Overlaps(BindAddress other)
    {
        if (IsWildcard || other.IsWildcard)
        {
            return true;
        }

        if (Kind == BindAddressKind.Localhost || other.Kind == BindAddressKind.Localhost)
        {
            return (Kind == BindAddressKind.Localhost || IPAddress.IsLoopback(Ip!))
                && (other.Kind == BindAddressKind.Localhost || IPAddress.IsLoopback(other.Ip!));
        }

        return Ip!.Equals(other.Ip);
    }

    private bool IsWildcard => Kind == BindAddressKind.Any
        || (Kind == BindAddressKind.Ip && (Ip!.Equals(IPAddress.Any) || Ip.Equals(IPAddress.IPv6Any)));

    public override string ToString() => Kind switch
    {
        BindAddressKind.Any => "*",
        BindAddressKind.Localhost => "localhost",
        _ => Ip!.ToString(),
    };
}
