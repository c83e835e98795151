using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace EchoHost.Protocols.Web;

/// <summary>
/// The browser chat page (<c>/</c>) and its assets, shipped inside the binary (Page/, embedded resources): nothing
/// from another origin, so it works with no internet and its Content-Security-Policy allows only this origin. Every
/// file is revalidated on each load (an ETag of its content, 304 when unchanged), so a browser never runs the script
/// of an older binary against a newer page. Any other path is a 404 of one line.
/// </summary>
internal static class WebPage
{
    /// <summary>
    /// Same-origin only: scripts and styles from files here (no inline code, no eval), the WebSocket back to this host,
    /// no plugins, no framing, no form posts elsewhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, PageFile> Files = Load();

    public static Task HandleAsync(HttpContext context, WebListener web)
    {
        var request = context.Request;
        if (!Files.TryGetValue(request.Path.Value ?? "/", out var file))
        {
            return WebListener.RefuseAsync(context, StatusCodes.Status404NotFound,
                $"not found: {request.Path}; the chat page is at /, its WebSocket at {WebRoutes.ChatPath}");
        }

        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            return WebListener.RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, $"{request.Method} is not allowed on {request.Path}: GET or HEAD");
        }

        var headers = response.Headers;
        headers.ETag = file.ETag;
        // Cached, but asked about again on each use: a 304 costs a round trip and no body.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        if (IsUnchanged(request, file.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = file.ContentType;
        response.ContentLength = file.Content.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(file.Content, context.RequestAborted).AsTask();
    }

    private static bool IsUnchanged(HttpRequest request, string etag)
    {
        var ifNoneMatch = request.GetTypedHeaders().IfNoneMatch;
        return ifNoneMatch.Count > 0 && ifNoneMatch.Any(tag => tag == EntityTagHeaderValue.Any || tag.Tag == etag);
    }

    /// <summary>The embedded files by the path they are served at: index.html at <c>/</c>, the others at <c>/name</c>.</summary>
    private static FrozenDictionary<string, PageFile> Load()
    {
        const string prefix = "EchoHost.Protocols.Web.Page/";
        var assembly = typeof(WebPage).Assembly;
        var files = new Dictionary<string, PageFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var fileName = name[prefix.Length..];
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
            files[fileName == "index.html" ? "/" : "/" + fileName] = new PageFile(content, ContentTypeOf(fileName), etag);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string fileName) => Path.GetExtension(fileName) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => throw new InvalidOperationException($"No content type for the page file {fileName}."),
    };

    private sealed record PageFile(byte[] Content, string ContentType, string ETag);
}
