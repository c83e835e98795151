using System.Net;
using EchoHost.Harness;
using EchoHost.Load.Benchmark;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// A real InspIRCd on a free loopback port, with the benchmark's configuration (<see cref="InspIrcd"/>) in a temporary
/// folder: the IRC server the client drivers are checked against, so a failure of theirs against EchoHost is
/// EchoHost's, not the driver's.
/// </summary>
internal sealed class InspIrcdServer(string directory, ChildProcess process, IPEndPoint endPoint) : ExternalServer(process, directory)
{
    public IPEndPoint EndPoint { get; } = endPoint;

    public static async Task<InspIrcdServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("echohost-inspircd-").FullName;
        var port = SocketExtensions.FreeLoopbackPort();
        var process = InspIrcd.Start(InspIrcd.Find(null) ?? throw new InvalidOperationException(InspIrcd.InstallHint), port, directory);
        var server = new InspIrcdServer(directory, process, InspIrcd.EndPoint(port));
        return await WhenReadyAsync(server, () => process.WaitForTcpAsync(server.EndPoint, TestTimeouts.Long));
    }
}
