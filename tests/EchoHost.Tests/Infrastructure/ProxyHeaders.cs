using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>Hand-made PROXY protocol headers, as HAProxy's specification writes them, for the malformed-input tests.</summary>
internal static class ProxyHeaders
{
    public static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static byte[] V1(IPEndPoint source, IPEndPoint destination) => Encoding.ASCII.GetBytes(
        $"PROXY {(source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");

    /// <summary>A v2 PROXY (or LOCAL) header over TCP with the given TLVs after the addresses.</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination, bool local = false, params (byte Type, byte[] Value)[] tlvs)
    {
        var v4 = source.AddressFamily == AddressFamily.InterNetwork;
        var addresses = new List<byte>();
        addresses.AddRange(source.Address.GetAddressBytes());
        addresses.AddRange(destination.Address.GetAddressBytes());
        addresses.AddRange(Port(source.Port));
        addresses.AddRange(Port(destination.Port));
        foreach (var (type, value) in tlvs)
        {
            addresses.Add(type);
            addresses.AddRange(Port(value.Length));
            addresses.AddRange(value);
        }

        return V2Raw(local ? (byte)0x20 : (byte)0x21, v4 ? (byte)0x11 : (byte)0x21, addresses.ToArray());
    }

    /// <summary>A v2 header with any command byte, family byte and body; the length field is the body's length.</summary>
    public static byte[] V2Raw(byte versionCommand, byte family, byte[] body, int? lengthField = null)
    {
        var header = new byte[16 + body.Length];
        V2Signature.CopyTo(header, 0);
        header[12] = versionCommand;
        header[13] = family;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(lengthField ?? body.Length));
        body.CopyTo(header, 16);
        return header;
    }

    private static byte[] Port(int port) => [(byte)(port >> 8), (byte)port];
}
