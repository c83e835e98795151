using System.Text;
using System.Text.Unicode;

namespace EchoHost.Protocols.Chat;

/// <summary>
/// Turns the bytes of one connection into chat lines, whatever sends them: nc (bare LF), telnet (CRLF, CR NUL and
/// IAC option negotiation) or a program. Telnet commands are removed, also when split across reads; <c>IAC IAC</c> is
/// a literal 0xFF. A line longer than the limit is reported once and discarded up to its end, so memory per
/// connection never exceeds the limit. State carries across calls; one decoder per connection.
/// </summary>
internal sealed class ChatLineDecoder(int maxLineBytes)
{
    private const byte Iac = 255, Dont = 254, Do = 253, Wont = 252, Will = 251, Sb = 250, Se = 240;
    private const byte Cr = (byte)'\r', Lf = (byte)'\n', Nul = 0;

    private readonly byte[] _line = new byte[maxLineBytes];
    private int _length;
    private bool _discarding;
    private bool _afterCr;
    private TelnetState _telnet;

    private enum TelnetState
    {
        Data,
        Command,
        Option,
        Subnegotiation,
        SubnegotiationIac,
    }

    public void Decode(ReadOnlySpan<byte> bytes, List<ChatInput> output)
    {
        foreach (var b in bytes)
        {
            switch (_telnet)
            {
                case TelnetState.Data:
                    OnData(b, output);
                    break;
                case TelnetState.Command:
                    _telnet = b switch
                    {
                        Will or Wont or Do or Dont => TelnetState.Option,
                        Sb => TelnetState.Subnegotiation,
                        _ => TelnetState.Data,
                    };
                    if (b == Iac)
                    {
                        Append(Iac, output);
                    }

                    break;
                case TelnetState.Option:
                    _telnet = TelnetState.Data;
                    break;
                case TelnetState.Subnegotiation:
                    _telnet = b == Iac ? TelnetState.SubnegotiationIac : TelnetState.Subnegotiation;
                    break;
                case TelnetState.SubnegotiationIac:
                    _telnet = b == Se ? TelnetState.Data : TelnetState.Subnegotiation;
                    break;
            }
        }
    }

    /// <summary>At the end of input: a last line without a line ending still counts.</summary>
    public void Complete(List<ChatInput> output)
    {
        if (_length > 0 || _discarding)
        {
            EndLine(output);
        }
    }

    private void OnData(byte b, List<ChatInput> output)
    {
        if (_afterCr)
        {
            _afterCr = false;
            if (b is Lf or Nul)
            {
                return; // the rest of CRLF or CR NUL: the line already ended at CR
            }
        }

        switch (b)
        {
            case Iac:
                _telnet = TelnetState.Command;
                break;
            case Lf:
                EndLine(output);
                break;
            case Cr:
                EndLine(output);
                _afterCr = true;
                break;
            case Nul:
                break; // telnet padding
            default:
                Append(b, output);
                break;
        }
    }

    private void Append(byte b, List<ChatInput> output)
    {
        if (_discarding)
        {
            return;
        }

        if (_length == _line.Length)
        {
            _discarding = true;
            _length = 0;
            output.Add(ChatInput.TooLong);
            return;
        }

        _line[_length++] = b;
    }

    private void EndLine(List<ChatInput> output)
    {
        if (_discarding)
        {
            _discarding = false;
            return;
        }

        var line = _line.AsSpan(0, _length);
        _length = 0;
        output.Add(Utf8.IsValid(line) ? ChatInput.Line(Sanitize(Encoding.UTF8.GetString(line))) : ChatInput.InvalidUtf8);
    }

    /// <summary>Control characters would let one user rewrite others' terminals; they become U+FFFD (tabs stay).</summary>
    private static string Sanitize(string text)
    {
        if (!text.Any(IsUnsafe))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = IsUnsafe(source[i]) ? '\uFFFD' : source[i];
            }
        });
    }

    private static bool IsUnsafe(char c) => c != '\t' && char.IsControl(c);
}
