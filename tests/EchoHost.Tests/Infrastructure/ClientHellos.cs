using System.Buffers.Binary;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// Hand-made TLS ClientHellos for handshake attacks: a TLS 1.2 hello (no supported_versions extension, so 1.2 is all
/// it offers) of any size up to what TLS servers take (OpenSSL: 131,396 bytes), padded with a padding extension and
/// cut into records of at most 16 KiB, as a client with a big hello sends it.
/// </summary>
internal static class ClientHellos
{
    public const int MaxRecordPayload = 16_384;

    /// <summary>The hello's records; <paramref name="helloBytes"/> is the handshake message's size, headers included.</summary>
    public static List<byte[]> Records(int helloBytes, int recordPayload = MaxRecordPayload)
    {
        var message = Message(helloBytes);
        var records = new List<byte[]>();
        for (var offset = 0; offset < message.Length; offset += recordPayload)
        {
            var payload = message.AsSpan(offset, Math.Min(recordPayload, message.Length - offset));
            var record = new byte[5 + payload.Length];
            record[0] = 0x16; // handshake
            record[1] = 0x03; // record version 0x0301, what clients send on their first record
            record[2] = 0x01;
            BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(3), (ushort)payload.Length);
            payload.CopyTo(record.AsSpan(5));
            records.Add(record);
        }

        return records;
    }

    /// <summary>Every byte of the hello's records but the last: the server waits for the rest until its deadline.</summary>
    public static byte[] Stalled(int helloBytes, int recordPayload = MaxRecordPayload)
    {
        var all = Records(helloBytes, recordPayload).SelectMany(r => r).ToArray();
        return all[..^1];
    }

    /// <summary>
    /// The ClientHello handshake message: header, TLS 1.2, no session id, cipher suites, no compression, one padding
    /// extension. Each list has a 16-bit length, so a big hello fills the extensions (up to 64 KiB) and then the suite
    /// list with suites no one knows.
    /// </summary>
    private static byte[] Message(int helloBytes)
    {
        // type(1) length(3) version(2) random(32) session id(1) suites length(2) compression(2) extensions length(2)
        const int fixedBytes = 4 + 2 + 32 + 1 + 2 + 2 + 2;
        const int minSuites = 4;
        var rest = helloBytes - fixedBytes - minSuites;
        if (rest < 4 || rest > 65_535 + 65_530)
        {
            throw new ArgumentOutOfRangeException(nameof(helloBytes), $"a hello here is {fixedBytes + minSuites + 4} to {fixedBytes + minSuites + 65_535 + 65_530} bytes");
        }

        var extensions = Math.Min(rest, 65_535);
        var suites = minSuites + ((rest - extensions) & ~1);
        extensions = rest + minSuites - suites;
        var message = new byte[helloBytes];
        var span = message.AsSpan();
        span[0] = 0x01; // ClientHello
        span[1] = (byte)((helloBytes - 4) >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)(helloBytes - 4));
        span[4] = 0x03; // TLS 1.2
        span[5] = 0x03;
        Random.Shared.NextBytes(span.Slice(6, 32));
        var at = 38;
        span[at++] = 0; // no session id
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)suites);
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], 0xC02F); // ECDHE-RSA-AES128-GCM-SHA256
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 4)..], 0xC02B); // ECDHE-ECDSA-AES128-GCM-SHA256
        for (var i = 4; i < suites; i += 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2 + i)..], (ushort)(0xFE00 - i));
        }

        at += 2 + suites;
        span[at++] = 1;
        span[at++] = 0; // null compression
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)extensions);
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], 0x0015); // padding extension: zeros
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 4)..], (ushort)(extensions - 4));
        return message;
    }
}
