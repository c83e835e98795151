using System.Buffers;
using System.Text;
using EchoHost.Pipeline;
using Microsoft.AspNetCore.Connections;
using Microsoft.Net.Http.Headers;

namespace EchoHost.Protocols.Web;

/// <summary>
/// <c>/echo</c> and every path under it, any method: an HTTP echo for testing L7 load balancers. It answers with the
/// request (method, path, query, headers, the body up to <c>MaxEchoBodyBytes</c>), the client (as the socket sees it,
/// and as a trusted proxy reports it), TLS details and who answered, as JSON — or as text when the client asks for
/// <c>text/plain</c>. JSON is the default even for curl's <c>Accept: */*</c>: one shape to read and to pipe into
/// <c>jq</c>, and what the peers (mendhak/http-https-echo, ealen/echo-server) answer. A status code and a delay may be
/// asked for (<see cref="HttpEchoKnobs"/>); a bad one gets a 400 with a one-line reason.
/// </summary>
internal static partial class HttpEcho
{
    public static async Task HandleAsync(HttpContext context, WebListener web)
    {
        var request = context.Request;
        if (!HttpEchoKnobs.TryParse(request, web.Options.MaxEchoDelay, out var knobs, out var error))
        {
            await AnswerLineAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        HttpEchoBody body;
        try
        {
            body = await HttpEchoBody.ReadAsync(request, web.Options.MaxEchoBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits (MaxRequestBodySize, the minimum data rate): its status and its one-line reason.
            await AnswerLineAsync(context, ex.StatusCode, ex.Message);
            return;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            return;
        }

        using (body)
        {
            if (knobs.Delay > TimeSpan.Zero && await DelayAsync(context, web, knobs.Delay) is { } cutShort)
            {
                if (cutShort.Length > 0)
                {
                    context.Response.Headers.Connection = "close";
                    await AnswerLineAsync(context, StatusCodes.Status503ServiceUnavailable, $"delay cut short: {cutShort}");
                }

                return;
            }

            var report = HttpEchoReport.Of(context, web, body, knobs);
            LogEcho(web.Logger, web.Listener.Name, request.Method, report.Path, knobs.Status, body.Received, report.Client.Address?.ToString(),
                report.Client.Source);
            await AnswerAsync(context, report);
        }
    }

    /// <summary>
    /// Waits without a thread, until the delay is over (null), the client goes (empty: nobody to answer), or the
    /// server or the connection is closing (why, for a 503: a load balancer retries elsewhere).
    /// </summary>
    private static async Task<string?> DelayAsync(HttpContext context, WebListener web, TimeSpan delay)
    {
        var stopping = web.Services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var session = context.Features.Get<ConnectionSession>();
        var time = web.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping,
            session?.ConnectionClosedRequested ?? CancellationToken.None);
        LogDelay(web.Logger, web.Listener.Name, context.TraceIdentifier, HttpEchoKnobs.Format(delay));
        try
        {
            await Task.Delay(delay, time, cancel.Token);
            return null;
        }
        catch (OperationCanceledException)
        {
            return context.RequestAborted.IsCancellationRequested ? string.Empty
                : stopping.IsCancellationRequested ? "EchoHost is shutting down"
                : $"the connection is closing ({session?.CloseRequestReason})";
        }
    }

    private static async Task AnswerAsync(HttpContext context, HttpEchoReport report)
    {
        var response = context.Response;
        response.StatusCode = report.Knobs.Status;
        SetCommonHeaders(response);

        // These statuses have no body in HTTP/1.1: the knob is honoured, the echo goes unsaid.
        if (report.Knobs.Status is StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified)
        {
            return;
        }

        var output = new ArrayBufferWriter<byte>(4096);
        if (WantsText(context.Request))
        {
            response.ContentType = HttpEchoText.ContentType;
            Encoding.UTF8.GetBytes(HttpEchoText.Write(report), output);
        }
        else
        {
            response.ContentType = HttpEchoJson.ContentType;
            HttpEchoJson.Write(output, report);
            output.Write("\n"u8);
        }

        await WriteAsync(context, output.WrittenMemory);
    }

    /// <summary>A status with one line of text: every refusal, and the delay cut short.</summary>
    private static async Task AnswerLineAsync(HttpContext context, int status, string line)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        SetCommonHeaders(context.Response);
        context.Response.ContentType = HttpEchoText.ContentType;
        await WriteAsync(context, Encoding.UTF8.GetBytes(line + "\n"));
    }

    private static void SetCommonHeaders(HttpResponse response)
    {
        // An echo is about this one request: no cache or proxy may answer the next one with it.
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    /// <summary>The body with its length, which HEAD is told too and not sent.</summary>
    private static async Task WriteAsync(HttpContext context, ReadOnlyMemory<byte> bytes)
    {
        context.Response.ContentLength = bytes.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        try
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client left: nobody to tell.
        }
    }

    /// <summary>Text only when the client prefers <c>text/plain</c> (or <c>text/*</c>) to JSON; <c>*/*</c> and no Accept get JSON.</summary>
    internal static bool WantsText(HttpRequest request)
    {
        double text = 0, json = 0;
        foreach (var media in request.GetTypedHeaders().Accept)
        {
            var quality = media.Quality ?? 1;
            var type = media.MediaType;
            if (type.Equals("text/plain", StringComparison.OrdinalIgnoreCase) || type.Equals("text/*", StringComparison.OrdinalIgnoreCase))
            {
                text = Math.Max(text, quality);
            }
            else if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || type.Equals("*/*", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
        }

        return text > json;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} echo request {RequestId} waits {Delay} before it answers")]
    private static partial void LogDelay(ILogger logger, string listener, string requestId, string delay);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Listener} echo {Method} {Path}: status {Status}, {BodyBytes} body bytes, client {Client} ({ClientSource})")]
    private static partial void LogEcho(ILogger logger, string listener, string method, string path, int status, long bodyBytes, string? client,
        string clientSource);
}
