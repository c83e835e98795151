namespace EchoHost.Protocols.Web;

/// <summary>The chat page and its assets (helper page replaces this file).</summary>
internal static class WebPage
{
    public static Task HandleAsync(HttpContext context, WebListener web) =>
        WebListener.RefuseAsync(context, StatusCodes.Status404NotFound, $"not found: {context.Request.Path}");
}
