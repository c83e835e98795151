using EchoHost.Configuration;

namespace EchoHost.Protocols.Web;

/// <summary>
/// What a Web listener serves, by path: the chat page, the WebSocket paths, the HTTP echo; anything else is a 404 that
/// names what is here. Plain path branches rather than endpoint routing, whose routes belong to the HTTP endpoint.
/// </summary>
internal static class WebRoutes
{
    public const string ChatPath = "/ws/chat";
    public const string IrcPath = "/ws/irc";
    public const string EchoSocketPath = "/ws/echo";
    public const string HttpEchoPath = "/echo";

    public static void Build(IApplicationBuilder app, ListenerDefinition listener)
    {
        var web = new WebListener(listener, app.ApplicationServices);
        app.UseWebSockets();
        app.Map(ChatPath, branch => branch.Run(context => WebSocketLines.ChatAsync(context, web)));
        app.Map(IrcPath, branch => branch.Run(context => WebSocketLines.IrcAsync(context, web)));
        app.Map(EchoSocketPath, branch => branch.Run(context => WebSocketEcho.HandleAsync(context, web)));
        app.Map(HttpEchoPath, branch => branch.Run(context => HttpEcho.HandleAsync(context, web)));
        app.Run(context => WebPage.HandleAsync(context, web));
    }
}
