using EchoHost.Harness;

namespace EchoHost.Tests.Infrastructure;

/// <summary>A real program a test starts (haproxy, InspIRCd) with its temporary folder: dispose stops it and removes the folder.</summary>
internal abstract class ExternalServer(ChildProcess process, string directory) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A folder left in the temporary directory must not fail the test that used it.
        }
    }

    /// <summary>Returns <paramref name="server"/> once <paramref name="ready"/> completes; a server that never gets ready is stopped before the failure goes on.</summary>
    protected static async Task<T> WhenReadyAsync<T>(T server, Func<Task> ready)
        where T : ExternalServer
    {
        try
        {
            await ready();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }
}
