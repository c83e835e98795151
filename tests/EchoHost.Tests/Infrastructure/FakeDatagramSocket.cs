using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using EchoHost.Protocols.UdpEcho;

namespace EchoHost.Tests.Infrastructure;

/// <summary>A scripted UDP socket: the test delivers datagrams and errors, and reads what the loop sent.</summary>
internal sealed class FakeDatagramSocket : IDatagramSocket
{
    private readonly Channel<Func<Memory<byte>, SocketAddress, int>> _incoming = Channel.CreateUnbounded<Func<Memory<byte>, SocketAddress, int>>();
    private readonly Channel<(byte[] Data, IPEndPoint To)> _sent = Channel.CreateUnbounded<(byte[], IPEndPoint)>();
    private readonly Queue<SocketError> _sendFailures = new();

    public AddressFamily AddressFamily => AddressFamily.InterNetworkV6;

    public void Deliver(byte[] datagram, IPEndPoint from) => _incoming.Writer.TryWrite((buffer, source) =>
    {
        var address = new IPEndPoint(from.Address.MapToIPv6(), from.Port).Serialize();
        address.Buffer.CopyTo(source.Buffer);
        source.Size = address.Size;
        datagram.CopyTo(buffer);
        return datagram.Length;
    });

    public void FailReceive(SocketError error) => _incoming.Writer.TryWrite((_, _) => throw new SocketException((int)error));

    public void FailNextSend(SocketError error)
    {
        lock (_sendFailures)
        {
            _sendFailures.Enqueue(error);
        }
    }

    /// <summary>A failure no real socket reports: a bug in the loop's own code path.</summary>
    public void Break(Exception exception) => _incoming.Writer.TryWrite((_, _) => throw exception);

    /// <summary>What closing a real socket does to a pending receive.</summary>
    public void Close() => _incoming.Writer.TryWrite((_, _) => throw new ObjectDisposedException(nameof(Socket)));

    public async Task<(byte[] Data, IPEndPoint To)> NextSentAsync() => await _sent.Reader.ReadAsync(Infrastructure.TestTimeouts.Token());

    public bool SentAnything => _sent.Reader.TryPeek(out _);

    /// <summary>Blocks, as a real socket's receive does; the loop runs on a thread of its own.</summary>
    public int ReceiveFrom(Span<byte> buffer, SocketAddress source)
    {
        var next = _incoming.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
        var received = new byte[buffer.Length];
        var length = next(received, source);
        received.AsSpan(0, length).CopyTo(buffer);
        return length;
    }

    public int SendTo(ReadOnlySpan<byte> datagram, SocketAddress destination)
    {
        lock (_sendFailures)
        {
            if (_sendFailures.TryDequeue(out var error))
            {
                throw new SocketException((int)error);
            }
        }

        var to = (IPEndPoint)new IPEndPoint(IPAddress.IPv6Any, 0).Create(destination);
        _sent.Writer.TryWrite((datagram.ToArray(), to));
        return datagram.Length;
    }
}
