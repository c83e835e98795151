namespace EchoHost.Load;

/// <summary>
/// The bytes the client sends: a fixed pseudo-random sequence (every byte value occurs) with a prime period, read from
/// a per-connection starting point. Byte <c>n</c> of connection <c>c</c>'s stream is always the same, so the echo of
/// any read can be checked against what was sent at that offset without keeping a copy, and bytes from another
/// connection or from the wrong place in the stream show up as a mismatch at their offset.
/// </summary>
internal static class Pattern
{
    /// <summary>The period of the sequence: prime, so it never lines up with power-of-two message sizes.</summary>
    public const int Period = 65521;

    /// <summary>The longest contiguous slice <see cref="Slice"/> hands out.</summary>
    public const int MaxChunk = 65536;

    // The period followed by its first MaxChunk bytes again, so any slice of up to MaxChunk bytes is contiguous.
    private static readonly byte[] _table = Build();

    private static byte[] Build()
    {
        var table = GC.AllocateArray<byte>(Period + MaxChunk, pinned: true);
        var state = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < Period; i++)
        {
            // xorshift64*: deterministic, fast, and every byte value appears.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            table[i] = (byte)((state * 0x2545F4914F6CDD1DUL) >> 56);
        }

        for (var i = Period; i < table.Length; i++)
        {
            table[i] = table[i - Period]; // the repeat; MaxChunk > Period, so not one Array.Copy of overlapping ranges
        }

        return table;
    }

    /// <summary>Where stream number <paramref name="stream"/> starts in the sequence.</summary>
    public static int StartOf(long stream) => (int)((ulong)(stream * 7919 + 1) % Period);

    /// <summary>The <paramref name="length"/> (≤ <see cref="MaxChunk"/>) bytes at <paramref name="offset"/> of the stream that starts at <paramref name="start"/>.</summary>
    public static ReadOnlyMemory<byte> Slice(int start, long offset, int length) =>
        new(_table, (int)(((ulong)start + (ulong)offset) % Period), length);

    /// <summary>
    /// Checks received bytes against the stream at <paramref name="offset"/>; returns the index of the first wrong
    /// byte within <paramref name="received"/>, or -1 when all are right.
    /// </summary>
    public static int FirstMismatch(ReadOnlySpan<byte> received, int start, long offset)
    {
        var done = 0;
        while (done < received.Length)
        {
            var length = Math.Min(received.Length - done, MaxChunk);
            var expected = Slice(start, offset + done, length).Span;
            var chunk = received.Slice(done, length);
            if (!chunk.SequenceEqual(expected))
            {
                return done + chunk.CommonPrefixLength(expected);
            }

            done += length;
        }

        return -1;
    }

    /// <summary>The byte the stream has at <paramref name="offset"/>, for error messages.</summary>
    public static byte At(int start, long offset) => Slice(start, offset, 1).Span[0];
}
