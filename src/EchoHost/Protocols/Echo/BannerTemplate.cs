using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Configuration;

namespace EchoHost.Protocols.Echo;

/// <summary>
/// A listener's <c>Banner</c> with its placeholders: <c>{host}</c>, <c>{listener}</c>, <c>{pod}</c>,
/// <c>{namespace}</c> and <c>{node}</c> are filled once at start; <c>{local}</c> (the address and port the client
/// reached) and <c>{remote}</c> (the client, after the PROXY protocol) per connection. Any other <c>{word}</c> is a
/// start-up error (<see cref="BannerPlaceholders"/>), so a typo never reaches a client; other braces are text.
/// </summary>
internal sealed class BannerTemplate
{
    private readonly Part[] _parts;
    private readonly byte[]? _static;

    private BannerTemplate(Part[] parts)
    {
        _parts = parts;
        if (parts.All(p => p.Kind == PartKind.Text))
        {
            _static = Encoding.UTF8.GetBytes(string.Concat(parts.Select(p => p.Text)) + "\r\n");
        }
    }

    /// <summary>Whether the banner is the same for every connection (no <c>{local}</c> or <c>{remote}</c>).</summary>
    public bool IsStatic => _static is not null;

    /// <summary>The template of a validated banner; the fixed placeholders are filled now.</summary>
    public static BannerTemplate Parse(string banner, string listenerName)
    {
        var parts = new List<Part>();
        var text = new StringBuilder();
        var at = 0;
        foreach (Match match in BannerPlaceholders.Pattern().Matches(banner))
        {
            text.Append(banner, at, match.Index - at);
            at = match.Index + match.Length;
            switch (match.Groups[1].Value)
            {
                case "host": text.Append(ServiceIdentity.Host); break;
                case "listener": text.Append(listenerName); break;
                case "pod": text.Append(ServiceIdentity.Pod); break;
                case "namespace": text.Append(ServiceIdentity.Namespace); break;
                case "node": text.Append(ServiceIdentity.Node); break;
                case "local" or "remote":
                    parts.Add(new Part(PartKind.Text, text.ToString()));
                    text.Clear();
                    parts.Add(new Part(match.Groups[1].Value == "local" ? PartKind.Local : PartKind.Remote, string.Empty));
                    break;
                default:
                    throw new FormatException($"unknown banner placeholder {match.Value}");
            }
        }

        text.Append(banner, at, banner.Length - at);
        parts.Add(new Part(PartKind.Text, text.ToString()));
        return new BannerTemplate([.. parts.Where(p => p.Kind != PartKind.Text || p.Text.Length > 0)]);
    }

    /// <summary>The banner line for one connection, CRLF-terminated, as UTF-8.</summary>
    public byte[] Render(EndPoint? local, EndPoint? remote)
    {
        if (_static is not null)
        {
            return _static;
        }

        var line = new StringBuilder();
        foreach (var part in _parts)
        {
            line.Append(part.Kind switch
            {
                PartKind.Local => Describe(local),
                PartKind.Remote => Describe(remote),
                _ => part.Text,
            });
        }

        return Encoding.UTF8.GetBytes(line.Append("\r\n").ToString());
    }

    /// <summary>IPv4 clients of a dual-stack socket are shown as the IPv4 address they are.</summary>
    private static string Describe(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString(),
        null => ServiceIdentity.Unknown,
        _ => endPoint.ToString() ?? ServiceIdentity.Unknown,
    };

    private enum PartKind
    {
        Text,
        Local,
        Remote,
    }

    private readonly record struct Part(PartKind Kind, string Text);
}
