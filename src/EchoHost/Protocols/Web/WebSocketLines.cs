namespace EchoHost.Protocols.Web;

/// <summary>The chat and IRC over WebSocket (helper wslines replaces this file).</summary>
internal static class WebSocketLines
{
    public static Task ChatAsync(HttpContext context, WebListener web) =>
        WebListener.RefuseAsync(context, StatusCodes.Status404NotFound, $"not found: {context.Request.Path}");

    public static Task IrcAsync(HttpContext context, WebListener web) =>
        WebListener.RefuseAsync(context, StatusCodes.Status404NotFound, $"not found: {context.Request.Path}");
}
