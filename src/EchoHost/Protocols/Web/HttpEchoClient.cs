using System.Net;
using EchoHost.Configuration;
using EchoHost.Pipeline;

namespace EchoHost.Protocols.Web;

/// <summary>What the proxy's forwarded header said and whether it was believed.</summary>
internal sealed record ForwardedReport(string Header, string Value, bool Used, string Note);

/// <summary>
/// Who the client is, and on whose word: the socket's peer (<c>socket</c>); the PROXY protocol header's client, which
/// is already the connection's remote endpoint (<c>proxy-protocol</c>); or a trusted proxy's <c>X-Forwarded-For</c> or
/// <c>Forwarded</c> (<c>x-forwarded-for</c>, <c>forwarded</c>).
/// </summary>
internal sealed record HttpEchoClient(IPAddress? Address, string Source, IPEndPoint? Peer, ProxyProtocolFeature? ProxyProtocol,
    ForwardedReport? Forwarded)
{
    public const string XForwardedForHeader = "X-Forwarded-For";
    public const string ForwardedHeader = "Forwarded";

    /// <summary>
    /// The header is read only when the peer is one of <paramref name="trusted"/>, from the right (the hop nearest to
    /// EchoHost) while each address is trusted too: the first untrusted one is the client. Everything left of it was
    /// written by someone EchoHost has no reason to believe, as nginx's <c>real_ip_recursive</c> and ASP.NET Core's
    /// forwarded-headers middleware do.
    /// </summary>
    public static HttpEchoClient Resolve(HttpContext context, TrustedProxies trusted, ForwardedHeaderKind kind)
    {
        var peer = Normalize(context.Connection.RemoteIpAddress) is { } address ? new IPEndPoint(address, context.Connection.RemotePort) : null;
        var proxy = context.Features.Get<ProxyProtocolFeature>();
        var source = proxy is { IsLocal: false } ? "proxy-protocol" : "socket";
        var (header, other) = kind == ForwardedHeaderKind.Forwarded ? (ForwardedHeader, XForwardedForHeader) : (XForwardedForHeader, ForwardedHeader);
        var values = context.Request.Headers[header];
        if (values.Count == 0)
        {
            var ignored = context.Request.Headers[other];
            var report = ignored.Count == 0 ? null
                : new ForwardedReport(other, string.Join(", ", ignored.ToArray()), false, $"ignored: this listener reads {header} (ForwardedHeader)");
            return new HttpEchoClient(peer?.Address, source, peer, proxy, report);
        }

        var value = string.Join(", ", values.ToArray());
        if (!trusted.Contains(peer?.Address))
        {
            var why = trusted.Networks.Count == 0
                ? "ignored: this listener has no TrustedProxies"
                : $"ignored: the peer {peer?.Address} is not in TrustedProxies";
            return new HttpEchoClient(peer?.Address, source, peer, proxy, new ForwardedReport(header, value, false, why));
        }

        var entries = kind == ForwardedHeaderKind.Forwarded ? ForwardedForValues(value) : value.Split(',');
        var client = peer!.Address;
        var used = 0;
        var note = string.Empty;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (!TryParseNode(entries[i], out var hop))
            {
                note = $"; stopped at '{Shorten(entries[i].Trim())}', not an IP address";
                break;
            }

            client = hop;
            used++;
            if (!trusted.Contains(hop))
            {
                break;
            }
        }

        if (used == 0)
        {
            return new HttpEchoClient(client, source, peer, proxy, new ForwardedReport(header, value, false, $"ignored{note}"));
        }

        var summary = $"the peer is a trusted proxy; the client is the {Ordinal(used)} address from the right{note}";
        return new HttpEchoClient(client, header == ForwardedHeader ? "forwarded" : "x-forwarded-for", peer, proxy,
            new ForwardedReport(header, value, true, summary));
    }

    /// <summary>The <c>for=</c> values of a <c>Forwarded</c> header (RFC 7239), one per element, in order; an element without one counts as unknown.</summary>
    internal static IReadOnlyList<string> ForwardedForValues(string header)
    {
        var result = new List<string>();
        foreach (var element in SplitOutsideQuotes(header, ','))
        {
            var found = "unknown";
            foreach (var pair in SplitOutsideQuotes(element, ';'))
            {
                var equals = pair.IndexOf('=');
                if (equals > 0 && pair[..equals].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
                {
                    found = pair[(equals + 1)..].Trim().Trim('"');
                }
            }

            result.Add(found);
        }

        return result;
    }

    /// <summary>An address as proxies write them: <c>192.0.2.1</c>, <c>192.0.2.1:4711</c>, <c>2001:db8::1</c>, <c>[2001:db8::1]:4711</c>.</summary>
    internal static bool TryParseNode(string text, out IPAddress address)
    {
        address = IPAddress.None;
        var trimmed = text.Trim();
        if (!IPEndPoint.TryParse(trimmed, out var endPoint))
        {
            return false;
        }

        // IPAddress takes "10" or "10.1" as IPv4 addresses; no proxy writes those.
        if (endPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && trimmed.Split(':')[0].Count(c => c == '.') != 3)
        {
            return false;
        }

        address = Normalize(endPoint.Address)!;
        return true;
    }

    private static IEnumerable<string> SplitOutsideQuotes(string text, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                quoted = !quoted;
            }
            else if (text[i] == separator && !quoted)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    private static string Ordinal(int n) => n switch
    {
        1 => "first",
        2 => "second",
        3 => "third",
        _ => $"{n}th",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
