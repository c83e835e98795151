using System.Net;
using EchoHost.Harness;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A real HAProxy in TCP mode in front of one backend, on free loopback ports: one frontend that sends the PROXY
/// protocol v1 header (<c>send-proxy</c>) and one that sends v2 (<c>send-proxy-v2</c>). Started from PATH with a
/// generated configuration, in the foreground (the harness's <see cref="ChildProcess"/>), and killed on dispose.
/// </summary>
internal sealed class HaproxyServer(ChildProcess process, string directory, IPEndPoint v1, IPEndPoint v2) : ExternalServer(process, directory)
{
    /// <summary>The frontend whose connections reach the backend with a v1 (text) header.</summary>
    public IPEndPoint SendProxyV1 { get; } = v1;

    /// <summary>The frontend whose connections reach the backend with a v2 (binary) header.</summary>
    public IPEndPoint SendProxyV2 { get; } = v2;

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

        var process = ChildProcess.Start(new ChildProcessOptions("haproxy", ExternalTools.Find(ExternalTools.Haproxy) ?? ExternalTools.Haproxy)
        {
            Arguments = ["-db", "-f", config],
            StopTimeout = TestTimeouts.Process,
        });
        // Bounded polling until each frontend accepts (it forwards the probe, which the backend sees as a proxy that
        // sent nothing); haproxy exiting first fails at once, with its output.
        return await WhenReadyAsync(new HaproxyServer(process, directory, v1, v2), async () =>
        {
            await process.WaitForTcpAsync(v1, TestTimeouts.Process);
            await process.WaitForTcpAsync(v2, TestTimeouts.Process);
        });
    }
}
