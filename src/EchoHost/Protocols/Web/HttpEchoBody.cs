using System.Buffers;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Protocols.Web;

/// <summary>
/// A request body as the echo shows it: its first <c>MaxEchoBodyBytes</c> bytes, kept in a pooled array (give it back
/// with <see cref="Dispose"/>), and how many bytes came in all. The rest is read and dropped as it arrives, so a body
/// of any size costs the limit in memory, never the whole.
/// </summary>
internal sealed class HttpEchoBody : IDisposable
{
    private byte[]? _rented;

    private HttpEchoBody(byte[]? rented, int kept, long received)
    {
        _rented = rented;
        Kept = kept;
        Received = received;
    }

    public static HttpEchoBody Empty { get; } = new(null, 0, 0);

    /// <summary>How many bytes of the body are echoed.</summary>
    public int Kept { get; }

    /// <summary>How many bytes the body had.</summary>
    public long Received { get; }

    public bool Truncated => Received > Kept;

    public ReadOnlySpan<byte> Bytes => _rented is null ? [] : _rented.AsSpan(0, Kept);

    /// <summary>
    /// The echoed bytes as text when they are UTF-8, else null. A body cut at the limit may end inside a character:
    /// the up to three bytes of that character are left out of the text rather than calling the whole body binary.
    /// </summary>
    public string? Utf8Text()
    {
        var bytes = Bytes;
        for (var cut = 0; cut <= (Truncated ? Math.Min(3, bytes.Length) : 0); cut++)
        {
            if (Utf8.IsValid(bytes[..^cut]))
            {
                return System.Text.Encoding.UTF8.GetString(bytes[..^cut]);
            }
        }

        return null;
    }

    /// <summary>Reads the whole body: the first <paramref name="limit"/> bytes kept, the rest counted and dropped.</summary>
    public static async Task<HttpEchoBody> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength == 0 || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return Empty;
        }

        // A declared length smaller than the limit is all that is needed; chunked bodies get the limit.
        var size = (int)Math.Min(limit, request.ContentLength ?? limit);
        var rented = size == 0 ? null : ArrayPool<byte>.Shared.Rent(size);
        var kept = 0;
        var received = 0L;
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                received += buffer.Length;
                if (kept < size && !buffer.IsEmpty)
                {
                    var take = (int)Math.Min(size - kept, buffer.Length);
                    buffer.Slice(0, take).CopyTo(rented.AsSpan(kept));
                    kept += take;
                }

                // Everything consumed: what is over the limit is dropped here, as it arrives.
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            throw;
        }

        return new HttpEchoBody(rented, kept, received);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
