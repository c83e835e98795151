using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace EchoHost.Baseline;

/// <summary>
/// Kestrel with one endpoint and a connection handler that copies input to output: nothing else (no logging, no
/// limits, no metrics). With a certificate, Kestrel's own TLS (<c>ListenOptions.UseHttps</c>) in front of it: the
/// floor for a TLS echo.
/// </summary>
public sealed class TcpEchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TcpEchoServer(WebApplication app, IPEndPoint endPoint)
    {
        _app = app;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<TcpEchoServer> StartAsync(IPEndPoint endPoint, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endPoint, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }

            listen.UseConnectionHandler<EchoHandler>();
        }));
        var app = builder.Build();
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = bound is null ? endPoint.Port : new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        return new TcpEchoServer(app, new IPEndPoint(endPoint.Address, port));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class EchoHandler : ConnectionHandler
    {
        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            var input = connection.Transport.Input;
            var output = connection.Transport.Output;
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    output.Write(segment.Span);
                }

                input.AdvanceTo(buffer.End);
                if (!buffer.IsEmpty && (await output.FlushAsync()).IsCompleted)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    break; // the client half-closed: everything is echoed, returning closes the connection
                }
            }
        }
    }
}
