using System.Net;
using System.Net.Sockets;
using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using EchoHost.Protocols.UdpEcho;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocols.UdpEcho;

public sealed class UdpEchoLoopTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.1"), 50000);
    private readonly FakeDatagramSocket _socket = new();
    private readonly UdpListenerStats _stats = new();
    private readonly RecordingReadiness _readiness = new();

    private Task Run(UdpLimits? limits = null) =>
        new UdpEchoLoop("Test", _socket, new DatagramPolicy(limits ?? UdpLimits.Default, [65400], TimeProvider.System), _stats, _readiness, NullLogger.Instance)
            .RunAsync();

    [Fact]
    public async Task Each_datagram_is_sent_back_unchanged_to_its_source()
    {
        var loop = Run();

        _socket.Deliver("hello"u8.ToArray(), Client);
        _socket.Deliver([], new IPEndPoint(IPAddress.Parse("2001:db8::1"), 40000));

        var first = await _socket.NextSentAsync();
        Assert.Equal("hello"u8.ToArray(), first.Data);
        Assert.Equal(new IPEndPoint(Client.Address.MapToIPv6(), Client.Port), first.To);
        var second = await _socket.NextSentAsync();
        Assert.Empty(second.Data);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 40000), second.To);

        _socket.Close();
        await loop.WaitAsync(TestTimeouts.Default);
        Assert.Equal(2, _stats.DatagramsReceived);
        Assert.Equal(2, _stats.DatagramsSent);
        Assert.Equal(5, _stats.BytesReceived);
        Assert.Equal(5, _stats.BytesSent);
    }

    [Fact]
    public async Task Socket_errors_on_receive_and_send_are_counted_and_the_loop_carries_on()
    {
        var loop = Run();

        // Windows reports an ICMP "port unreachable" for an earlier reply as ConnectionReset on a later receive.
        _socket.FailReceive(SocketError.ConnectionReset);
        _socket.FailReceive(SocketError.NetworkUnreachable);
        _socket.Deliver("after receive errors"u8.ToArray(), Client);
        Assert.Equal("after receive errors"u8.ToArray(), (await _socket.NextSentAsync()).Data);

        _socket.FailNextSend(SocketError.HostUnreachable);
        _socket.Deliver("lost"u8.ToArray(), Client);
        _socket.Deliver("after a send error"u8.ToArray(), Client);
        Assert.Equal("after a send error"u8.ToArray(), (await _socket.NextSentAsync()).Data);

        Assert.False(loop.IsCompleted);
        Assert.Equal(3, _stats.SocketErrors);
        Assert.Equal(SocketError.HostUnreachable, _stats.LastSocketError);
        _socket.Close();
        await loop.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Dropped_datagrams_are_counted_by_reason_and_never_sent()
    {
        var loop = Run(new UdpLimits(MaxDatagramBytes: 4, DenySourcePorts: [19], PerSourceDatagramsPerSecond: 0));

        _socket.Deliver("big!!"u8.ToArray(), Client);
        _socket.Deliver("x"u8.ToArray(), new IPEndPoint(Client.Address, 19));
        _socket.Deliver("x"u8.ToArray(), new IPEndPoint(IPAddress.Broadcast, 50000));
        _socket.Deliver("ok"u8.ToArray(), Client);

        Assert.Equal("ok"u8.ToArray(), (await _socket.NextSentAsync()).Data);
        Assert.False(_socket.SentAnything);
        Assert.Equal(1, _stats.Dropped(UdpDropReason.TooLarge));
        Assert.Equal(1, _stats.Dropped(UdpDropReason.DeniedPort));
        Assert.Equal(1, _stats.Dropped(UdpDropReason.BadSource));
        Assert.Equal(3, _stats.DroppedTotal);
        Assert.Equal(4, _stats.DatagramsReceived);
        _socket.Close();
        await loop.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Closing_the_socket_ends_the_loop()
    {
        var loop = Run();

        _socket.Close();

        await loop.WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, _stats.SocketErrors);
        Assert.Empty(_readiness.Failed);
    }

    [Fact]
    public async Task A_loop_that_dies_takes_its_listener_out_of_readiness()
    {
        var loop = Run();

        _socket.Break(new InvalidOperationException("a bug"));

        await loop.WaitAsync(TestTimeouts.Default);
        var (listener, reason) = Assert.Single(_readiness.Failed);
        Assert.Equal("Test", listener);
        Assert.Equal("receive loop failed: InvalidOperationException", reason);
    }

    private sealed class RecordingReadiness : EchoHost.Health.IListenerEndpoints
    {
        public List<(string Listener, string Reason)> Failed { get; } = [];

        public void MarkBound(string listener, IReadOnlyList<System.Net.IPEndPoint> endPoints)
        {
        }

        public void MarkFailed(string listener, string reason) => Failed.Add((listener, reason));
    }
}
