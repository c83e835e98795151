using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace EchoHost.Tests.Load;

/// <summary>A WebSocket echo that gets a message wrong must fail the run, each fault named: proof that the checks can fail.</summary>
public sealed class WebSocketMismatchTests
{
    public enum Fault
    {
        FlippedByte,
        AsText,
        OneByteMore,
        Halved,
        Silent,
        Refused,
        RefusedWithLength,
    }

    /// <summary>A WebSocket server at any path that answers each message with <paramref name="fault"/>.</summary>
    private static async Task<WebApplication> StartFaultyAsync(Fault fault)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(async context =>
        {
            if (fault is Fault.Refused or Fault.RefusedWithLength)
            {
                // As EchoHost refuses: a 4xx with one line of text, chunked or with a length.
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentLength = fault == Fault.RefusedWithLength ? 22 : null;
                await context.Response.WriteAsync("no WebSockets here\nnow");
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    var message = buffer.AsMemory(0, received.Count);
                    switch (fault)
                    {
                        case Fault.FlippedByte:
                            buffer[5] ^= 0xFF;
                            await socket.SendAsync(message, WebSocketMessageType.Binary, true, context.RequestAborted);
                            break;
                        case Fault.AsText:
                            // Valid UTF-8 of the same length: the message type alone is wrong.
                            buffer.AsSpan(0, received.Count).Fill((byte)'x');
                            await socket.SendAsync(message, WebSocketMessageType.Text, true, context.RequestAborted);
                            break;
                        case Fault.OneByteMore:
                            await socket.SendAsync(buffer.AsMemory(0, received.Count + 1), WebSocketMessageType.Binary, true, context.RequestAborted);
                            break;
                        case Fault.Halved:
                            await socket.SendAsync(message[..(received.Count / 2)], WebSocketMessageType.Binary, true, context.RequestAborted);
                            break;
                        case Fault.Silent:
                            break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        });
        await app.StartAsync();
        return app;
    }

    private static Uri Url(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("http://", "ws://", StringComparison.Ordinal) + "/ws/echo");

    [Theory]
    [InlineData(Fault.FlippedByte, "echoed byte at offset 5 ")]
    [InlineData(Fault.AsText, "a binary message came back as text")]
    [InlineData(Fault.OneByteMore, "the echo of a 16-byte message is longer than that")]
    [InlineData(Fault.Halved, "the echo of a 16-byte message is 8 bytes")]
    public async Task A_wrong_echo_is_a_mismatch_that_names_the_fault(Fault fault, string reason)
    {
        await using var app = await StartFaultyAsync(fault);

        var run = await LoadClientRun.RunAsync("pingpong", "--target", Url(app).ToString(), "--connections", "2", "--size", "16", "--duration", "1", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.True(run.Number("mismatches") > 0, run.ToString());
        Assert.Contains(reason, run.Json.GetProperty("firstError").GetString());
    }

    [Theory]
    [InlineData(Fault.Refused)]
    [InlineData(Fault.RefusedWithLength)]
    public async Task An_upgrade_refused_is_reported_with_the_servers_status_line_and_first_line_of_text(Fault fault)
    {
        await using var app = await StartFaultyAsync(fault);

        var run = await LoadClientRun.RunAsync("pingpong", "--target", Url(app).ToString(), "--connections", "1", "--duration", "1", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.EndsWith("the server did not upgrade to a WebSocket: HTTP/1.1 403 Forbidden (no WebSockets here)", run.Json.GetProperty("firstError").GetString());
    }

    [Fact]
    public async Task A_server_that_never_echoes_is_an_error_after_the_timeout()
    {
        await using var app = await StartFaultyAsync(Fault.Silent);

        var run = await LoadClientRun.RunAsync("pingpong", "--target", Url(app).ToString(), "--connections", "1", "--duration", "1", "--timeout", "500ms", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, run.Number("errors"));
        Assert.Contains("connection 0: no answer within the timeout while echoing", run.Json.GetProperty("firstError").GetString());
    }
}
