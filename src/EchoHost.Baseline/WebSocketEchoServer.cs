using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Baseline;

/// <summary>
/// The floor for a WebSocket echo: ASP.NET Core's <c>UseWebSockets</c> and the receive/send loop of its own
/// documentation, on Kestrel's HTTP/1.1 (as EchoHost's Web listener speaks) at <c>/ws/echo</c>: nothing else (no
/// logging, no Origin check, no size limit, no metrics). Each frame goes back as it came, text or binary.
/// </summary>
public sealed class WebSocketEchoServer : IAsyncDisposable
{
    public const string Path = "/ws/echo";

    private readonly WebApplication _app;

    private WebSocketEchoServer(WebApplication app, IPEndPoint endPoint)
    {
        _app = app;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<WebSocketEchoServer> StartAsync(IPEndPoint endPoint)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endPoint, listen => listen.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path != Path)
            {
                await next(context);
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await EchoAsync(socket);
        });
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = bound is null ? endPoint.Port : new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        return new WebSocketEchoServer(app, new IPEndPoint(endPoint.Address, port));
    }

    private static async Task EchoAsync(WebSocket socket)
    {
        var buffer = new byte[4096];
        try
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            while (result.MessageType != WebSocketMessageType.Close)
            {
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
                result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            }

            await socket.CloseAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // The client went away without a close: nothing to answer.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
