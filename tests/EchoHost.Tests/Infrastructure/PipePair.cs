using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A connection with no socket: two pipes form a duplex pair. The handler gets <see cref="Connection"/>; the test
/// plays the client through <see cref="Client"/>.
/// </summary>
internal sealed class PipePair : IConnectionLifetimeNotificationFeature
{
    private readonly CancellationTokenSource _closing = new();

    public PipePair(long pauseWriterThreshold = 65536)
    {
        var options = new PipeOptions(pauseWriterThreshold: pauseWriterThreshold, resumeWriterThreshold: pauseWriterThreshold / 2, useSynchronizationContext: false);
        var toServer = new Pipe(options);
        var toClient = new Pipe(options);
        Client = new DuplexPipe(toClient.Reader, toServer.Writer);
        Connection = new DefaultConnectionContext("test", new DuplexPipe(toServer.Reader, toClient.Writer), Client);
        Connection.Features.Set<IConnectionLifetimeNotificationFeature>(this);
        ConnectionClosedRequested = _closing.Token;
    }

    public DefaultConnectionContext Connection { get; }

    public IDuplexPipe Client { get; }

    public CancellationToken ConnectionClosedRequested { get; set; }

    public void RequestClose() => _closing.Cancel();

    /// <summary>Everything the server wrote so far, without waiting for more.</summary>
    public byte[] DrainAvailable()
    {
        if (!Client.Input.TryRead(out var result))
        {
            return [];
        }

        var bytes = result.Buffer.ToArray();
        Client.Input.AdvanceTo(result.Buffer.End);
        return bytes;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from the server side.</summary>
    public async Task<byte[]> ReadAsync(int count)
    {
        var token = Infrastructure.TestTimeouts.Token();
        while (true)
        {
            var result = await Client.Input.ReadAsync(token);
            if (result.Buffer.Length >= count || result.IsCompleted)
            {
                var take = result.Buffer.Slice(0, Math.Min(count, result.Buffer.Length));
                var bytes = take.ToArray();
                Client.Input.AdvanceTo(take.End);
                return bytes;
            }

            Client.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
