using System.Net;
using EchoHost.Harness;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// A real HAProxy in HTTP mode with <c>option forwardfor</c> in front of one backend, on a free loopback port: it
/// appends the address of the client it saw to <c>X-Forwarded-For</c>. Killed on dispose.
/// </summary>
internal sealed class HttpEchoHaproxy(ChildProcess process, string directory, IPEndPoint forwardFor) : ExternalServer(process, directory)
{
    /// <summary>The frontend whose requests reach the backend with <c>X-Forwarded-For</c>.</summary>
    public IPEndPoint ForwardFor { get; } = forwardFor;

    public static async Task<HttpEchoHaproxy> StartAsync(IPEndPoint backend)
    {
        var directory = Directory.CreateTempSubdirectory("echohost-haproxy-http-").FullName;
        var front = new IPEndPoint(IPAddress.Loopback, SocketExtensions.FreeLoopbackPort());
        var config = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(config, $"""
            global
                maxconn 256
            defaults
                mode http
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            listen forwardfor
                bind {front}
                option forwardfor
                server echohost {backend}

            """);

        var process = ChildProcess.Start(new ChildProcessOptions("haproxy", ExternalTools.Find(ExternalTools.Haproxy) ?? ExternalTools.Haproxy)
        {
            Arguments = ["-db", "-f", config],
            StopTimeout = TestTimeouts.Process,
        });
        return await WhenReadyAsync(new HttpEchoHaproxy(process, directory, front),
            () => process.WaitForTcpAsync(front, TestTimeouts.Process));
    }
}
