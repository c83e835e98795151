using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A real HAProxy in TCP mode in front of one backend, on free loopback ports: one frontend that sends the PROXY
/// protocol v1 header (<c>send-proxy</c>) and one that sends v2 (<c>send-proxy-v2</c>). Started from PATH with a
/// generated configuration, in the foreground, and killed on dispose.
/// </summary>
internal sealed class HaproxyServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private HaproxyServer(Process process, string directory, IPEndPoint v1, IPEndPoint v2)
    {
        _process = process;
        _directory = directory;
        SendProxyV1 = v1;
        SendProxyV2 = v2;
    }

    /// <summary>The frontend whose connections reach the backend with a v1 (text) header.</summary>
    public IPEndPoint SendProxyV1 { get; }

    /// <summary>The frontend whose connections reach the backend with a v2 (binary) header.</summary>
    public IPEndPoint SendProxyV2 { get; }

    public static async Task<HaproxyServer> StartAsync(IPEndPoint backend)
    {
        var directory = Directory.CreateTempSubdirectory("echohost-haproxy-").FullName;
        var v1 = new IPEndPoint(IPAddress.Loopback, SocketExtensions.FreeLoopbackPort());
        var v2 = new IPEndPoint(IPAddress.Loopback, SocketExtensions.FreeLoopbackPort());
        var config = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(config, $"""
            global
                maxconn 256
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            listen send_proxy_v1
                bind {v1}
                server echohost {backend} send-proxy
            listen send_proxy_v2
                bind {v2}
                server echohost {backend} send-proxy-v2

            """);

        var info = new ProcessStartInfo(ExternalTools.Find(ExternalTools.Haproxy) ?? ExternalTools.Haproxy)
        {
            ArgumentList = { "-db", "-f", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start haproxy.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new HaproxyServer(process, directory, v1, v2);
        try
        {
            await WaitListeningAsync(process, v1, output);
            await WaitListeningAsync(process, v2, output);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Bounded polling until the frontend accepts (it forwards the probe, which the backend sees as a proxy that sent nothing).</summary>
    private static async Task WaitListeningAsync(Process process, IPEndPoint frontend, System.Text.StringBuilder output)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Process;
        while (true)
        {
            if (process.HasExited)
            {
                lock (output)
                {
                    throw new InvalidOperationException($"haproxy exited with {process.ExitCode}:\n{output}");
                }
            }

            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(frontend);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
