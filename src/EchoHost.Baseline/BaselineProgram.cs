using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Baseline;

/// <summary>
/// The floor EchoHost is measured against: the least a .NET echo server can do. <c>tcp</c> is a Kestrel
/// <c>ConnectionHandler</c> that copies input to output and nothing else; <c>udp</c> is a plain socket
/// ReceiveFrom/SendTo loop; <c>ws</c> is ASP.NET Core's <c>UseWebSockets</c> with a receive/send loop at
/// <c>/ws/echo</c>; <c>socket</c> is a plain <c>Socket</c> accept and receive/send loop with no Kestrel at all (the
/// floor under Kestrel's transport). Usage: <c>EchoHost.Baseline tcp|udp|ws|socket [--port N] [--address IP]</c>; port 0 (the default) picks a
/// free one. <c>tcp --tls-cert PEM --tls-key PEM</c> puts Kestrel's own TLS (<c>UseHttps</c>) in front of
/// the same handler. Prints one line with the bound endpoint, runs until SIGTERM or Ctrl+C.
/// </summary>
public static class BaselineProgram
{
    public const string Usage = "usage: EchoHost.Baseline tcp|udp|ws|socket [--port N (default 0: a free port)] [--address IP (default 127.0.0.1)] [tcp only: --tls-cert CERT.pem --tls-key KEY.pem]";

    public static async Task<int> Main(string[] args)
    {
        if (args is ["--help" or "-h", ..])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        if (args.Length == 0 || args[0] is not ("tcp" or "udp" or "ws" or "socket"))
        {
            await Console.Error.WriteLineAsync($"EchoHost.Baseline: {(args.Length == 0 ? "" : $"unknown mode '{args[0]}'; ")}{Usage}");
            return 2;
        }

        if (!TryParse(args[1..], out var address, out var port, out var certificatePath, out var keyPath, out var problem))
        {
            await Console.Error.WriteLineAsync($"EchoHost.Baseline: {problem}");
            return 2;
        }

        X509Certificate2? certificate = null;
        if (certificatePath is not null || keyPath is not null)
        {
            if (args[0] != "tcp" || certificatePath is null || keyPath is null)
            {
                await Console.Error.WriteLineAsync($"EchoHost.Baseline: TLS needs tcp with both --tls-cert and --tls-key; {Usage}");
                return 2;
            }

            try
            {
                certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"EchoHost.Baseline: cannot load the TLS certificate '{certificatePath}' with key '{keyPath}': {ex.Message}");
                return 2;
            }
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        if (args[0] == "tcp")
        {
            await using var server = await TcpEchoServer.StartAsync(new IPEndPoint(address, port), certificate);
            Console.WriteLine($"EchoHost.Baseline listening on {server.EndPoint}/tcp{(certificate is null ? "" : " (TLS)")}");
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        else if (args[0] == "ws")
        {
            await using var server = await WebSocketEchoServer.StartAsync(new IPEndPoint(address, port));
            Console.WriteLine($"EchoHost.Baseline listening on ws://{server.EndPoint}{WebSocketEchoServer.Path}");
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        else if (args[0] == "socket")
        {
            using var server = SocketEchoServer.Start(new IPEndPoint(address, port));
            Console.WriteLine($"EchoHost.Baseline listening on {server.EndPoint}/tcp (plain Socket)");
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        else
        {
            using var server = UdpEchoServer.Start(new IPEndPoint(address, port));
            Console.WriteLine($"EchoHost.Baseline listening on {server.EndPoint}/udp");
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return 0;
    }

    private static bool TryParse(string[] args, out IPAddress address, out int port, out string? certificate, out string? key, out string? problem)
    {
        address = IPAddress.Loopback;
        port = 0;
        certificate = null;
        key = null;
        problem = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--port" when value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535:
                case "--address" when value is not null && IPAddress.TryParse(value, out address!):
                    i++;
                    break;
                case "--tls-cert" when value is not null:
                    certificate = value;
                    i++;
                    break;
                case "--tls-key" when value is not null:
                    key = value;
                    i++;
                    break;
                default:
                    problem = $"bad argument '{args[i]}{(value is null ? "" : " " + value)}'; {Usage}";
                    return false;
            }
        }

        return true;
    }
}
