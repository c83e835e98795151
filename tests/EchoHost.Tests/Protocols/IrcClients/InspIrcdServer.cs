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
internal sealed class InspIrcdServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly ChildProcess _process;

    private InspIrcdServer(string directory, ChildProcess process, IPEndPoint endPoint)
    {
        _directory = directory;
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<InspIrcdServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("echohost-inspircd-").FullName;
        var port = SocketExtensions.FreeLoopbackPort();
        var process = InspIrcd.Start(InspIrcd.Find(null) ?? throw new InvalidOperationException(InspIrcd.InstallHint), port, directory);
        var server = new InspIrcdServer(directory, process, InspIrcd.EndPoint(port));
        try
        {
            await process.WaitForTcpAsync(server.EndPoint, TestTimeouts.Long);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
