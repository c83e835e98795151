using System.Net;
using System.Net.Sockets;
using EchoHost.Health;
using EchoHost.Logging;

namespace EchoHost.Protocols.UdpEcho;

/// <summary>
/// One receive loop on one socket: each datagram is checked by the listener's <see cref="DatagramPolicy"/>, then
/// sent back unchanged to its source, or dropped and counted. The buffer and the source address are reused, so the
/// steady state allocates nothing. The loop ends only when its socket is closed.
/// <para>
/// It runs on a thread of its own with blocking receives and sends, as a plain socket loop does: one
/// <c>recvfrom</c> and one <c>sendto</c> a datagram. Asynchronous receives cost a failed <c>recvfrom</c>, an epoll
/// wake-up and a thread-pool hop per datagram on an idle-then-busy socket: 2.8 times the CPU of a plain loop per
/// datagram in the benchmark (docs/performance.md, What was tried). A thread a socket is cheap: a listener has one
/// socket, two for <c>localhost</c> or <c>*</c>.
/// </para>
/// </summary>
internal sealed partial class UdpEchoLoop(
    string listenerName,
    IDatagramSocket socket,
    DatagramPolicy policy,
    UdpListenerStats stats,
    IListenerEndpoints endpoints,
    ILogger logger)
{
    /// <summary>Above the largest UDP payload (65,527 bytes over IPv6), so an oversized datagram is seen whole, never cut.</summary>
    public const int ReceiveBufferSize = 65_536;

    /// <summary>Failed receives in a row after which the loop pauses, so a socket stuck in an error cannot spin a core.</summary>
    private const int ErrorsBeforePause = 16;

    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(50);

    /// <summary>Starts the loop on its own thread; the task completes when the socket is closed.</summary>
    public Task RunAsync() => Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run()
    {
        Thread.CurrentThread.Name = $"UDP {listenerName}";
        try
        {
            Serve();
        }
        catch (Exception ex)
        {
            // A bug, not a network event: say so loudly, and take the listener out of readiness so /readyz (and a
            // load balancer) stop counting on a port that no longer answers.
            LogLoopFailed(ex, listenerName);
            endpoints.MarkFailed(listenerName, $"receive loop failed: {ex.GetType().Name}");
        }
    }

    private void Serve()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
        var source = new SocketAddress(socket.AddressFamily);
        var failuresInARow = 0;
        while (true)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(buffer, source);
                failuresInARow = 0;
            }
            catch (Exception ex) when (IsClosed(ex))
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
            {
                // Only an IPv6 jumbogram can outgrow the buffer; it is over any MaxDatagramBytes.
                stats.OnReceived(buffer.Length);
                stats.OnDropped(UdpDropReason.TooLarge);
                continue;
            }
            catch (SocketException ex)
            {
                // On some platforms an ICMP "port unreachable" for an earlier reply surfaces on a later receive.
                OnSocketError(ex, "receive");
                if (++failuresInARow >= ErrorsBeforePause)
                {
                    failuresInARow = 0;
                    Thread.Sleep(ErrorPause);
                }

                continue;
            }

            stats.OnReceived(received);
            if (policy.Check(source, received) is { } reason)
            {
                stats.OnDropped(reason);
                if (logger.IsEnabled(LogLevel.Trace))
                {
                    LogDropped(listenerName, EndPointOf(source), received, UdpDropReasons.Name(reason));
                }

                continue;
            }

            if (logger.IsEnabled(LogLevel.Trace))
            {
                LogEchoing(listenerName, EndPointOf(source), received, PayloadFormatter.Format(buffer.AsSpan(0, received)));
            }

            try
            {
                stats.OnSent(socket.SendTo(buffer.AsSpan(0, received), source));
            }
            catch (Exception ex) when (IsClosed(ex))
            {
                return;
            }
            catch (SocketException ex)
            {
                OnSocketError(ex, "send");
            }
        }
    }

    private static bool IsClosed(Exception ex) =>
        ex is ObjectDisposedException or OperationCanceledException
        || ex is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted };

    private void OnSocketError(SocketException ex, string operation)
    {
        stats.OnSocketError(ex.SocketErrorCode);
        LogSocketError(listenerName, operation, ex.SocketErrorCode);
    }

    private static IPEndPoint EndPointOf(SocketAddress address)
    {
        var any = address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        var endPoint = (IPEndPoint)new IPEndPoint(any, 0).Create(address);
        return endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "{Listener} echoing {Bytes} bytes to {RemoteEndPoint}: {Payload}")]
    private partial void LogEchoing(string listener, IPEndPoint remoteEndPoint, int bytes, string payload);

    [LoggerMessage(Level = LogLevel.Trace, Message = "{Listener} dropped {Bytes} bytes from {RemoteEndPoint} ({Reason})")]
    private partial void LogDropped(string listener, IPEndPoint remoteEndPoint, int bytes, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Listener} receive loop failed; this socket no longer answers")]
    private partial void LogLoopFailed(Exception exception, string listener);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Listener} {Operation} failed with {SocketError}; carrying on")]
    private partial void LogSocketError(string listener, string operation, SocketError socketError);
}
