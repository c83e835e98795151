namespace EchoHost.Protocols.Web;

/// <summary>The HTTP echo (helper httpecho replaces this file).</summary>
internal static class HttpEcho
{
    public static Task HandleAsync(HttpContext context, WebListener web) =>
        WebListener.RefuseAsync(context, StatusCodes.Status404NotFound, $"not found: {context.Request.Path}");
}
