using System.Net;
using System.Net.Sockets;

namespace EchoHost.Load.Modes;

/// <summary>What the TCP modes share: connecting (from a chosen source address), sending the pattern, reading back and checking it.</summary>
internal static class Tcp
{
    // Linux IP_BIND_ADDRESS_NO_PORT: a socket bound to a source address gets its port at connect time, per
    // destination, so one source address is not limited to one set of ~28,000 ports shared by every destination.
    private const int IpBindAddressNoPort = 24;

    public static Socket NewSocket(IPEndPoint target, IPAddress? source)
    {
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null)
        {
            try
            {
                if (OperatingSystem.IsLinux())
                {
                    socket.SetRawSocketOption(target.AddressFamily == AddressFamily.InterNetwork ? 0 : 41, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(new IPEndPoint(source, 0));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return socket;
    }

    /// <summary>Connection number <paramref name="index"/>: its target (several take turns) and source address (likewise).</summary>
    public static Connection NewConnection(LoadOptions options, long index) =>
        new(options, options.TargetFor(index), SourceFor(options, index));

    public static IPAddress? SourceFor(LoadOptions options, long index) =>
        options.Sources.Count == 0 ? null : options.Sources[(int)(index % options.Sources.Count)];

    /// <summary>Sends <paramref name="length"/> bytes of the stream starting at <paramref name="start"/>, from <paramref name="offset"/>.</summary>
    public static async ValueTask SendPatternAsync(Connection connection, int start, long offset, int length)
    {
        var sent = 0;
        while (sent < length)
        {
            var chunk = Math.Min(length - sent, Pattern.MaxChunk);
            await connection.SendAsync(Pattern.Slice(start, offset + sent, chunk));
            sent += chunk;
        }
    }

    /// <summary>
    /// Reads exactly <paramref name="length"/> bytes and checks each against the stream; false (with the error or the
    /// mismatch counted) when the server closed early or sent a wrong byte.
    /// </summary>
    public static async ValueTask<bool> ReceiveVerifiedAsync(Connection connection, WorkerStats worker, byte[] buffer, int start, long offset, int length, string who)
    {
        var got = 0;
        while (got < length)
        {
            var n = await connection.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, length - got)));
            if (n == 0)
            {
                worker.Error($"{who}: closed by the server after {offset + got} echoed bytes, {length - got} more expected");
                return false;
            }

            if (!Check(worker, buffer.AsSpan(0, n), start, offset + got, who))
            {
                return false;
            }

            got += n;
        }

        return true;
    }

    public static bool Check(WorkerStats worker, ReadOnlySpan<byte> received, int start, long offset, string who)
    {
        var bad = Pattern.FirstMismatch(received, start, offset);
        if (bad < 0)
        {
            return true;
        }

        worker.Mismatch($"{who}: echoed byte at offset {offset + bad} is 0x{received[bad]:x2}, sent 0x{Pattern.At(start, offset + bad):x2}");
        return false;
    }

    /// <summary>The error to count for a failed socket operation: a timeout when the watchdog closed the socket.</summary>
    public static string Describe(Exception ex, WorkerStats worker, string who, string doing) => worker.TimedOut
        ? $"{who}: no answer within the timeout while {doing}"
        : $"{who}: {doing} failed: {Reason(ex)}";

    // SslStream wraps the socket's error in an IOException; the socket error is the useful part.
    private static string Reason(Exception ex) => ex switch
    {
        SocketException se => se.SocketErrorCode + " (" + se.Message + ")",
        IOException { InnerException: SocketException se } => se.SocketErrorCode + " (" + se.Message + ")",
        System.Net.WebSockets.WebSocketException { InnerException: { } inner } => Reason(inner),
        System.Security.Authentication.AuthenticationException => "TLS handshake: " + (ex.InnerException is { } inner ? ex.Message + " " + inner.Message : ex.Message),
        _ => ex.Message,
    };

    public static byte[] NewBuffer(int size) => GC.AllocateUninitializedArray<byte>(Math.Clamp(size, 1, Pattern.MaxChunk), pinned: true);
}

/// <summary>
/// Spaces one worker's operations to its share of <c>--rate</c>. The returned time is when the operation was due, so a
/// late start counts in its latency (no coordinated omission: a server stall shows as latency, not as fewer samples).
/// </summary>
internal sealed class Pacer
{
    private readonly long _interval;
    private long _next;

    public Pacer(LoadRun run, int index, int workers)
    {
        if (run.Options.Rate > 0)
        {
            _interval = (long)(System.Diagnostics.Stopwatch.Frequency * workers / run.Options.Rate);
            _next = System.Diagnostics.Stopwatch.GetTimestamp() + _interval * index / Math.Max(1, workers);
        }
    }

    public async ValueTask<long> WaitAsync(CancellationToken stopping)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_interval == 0)
        {
            return now;
        }

        var due = _next;
        _next += _interval;
        if (due > now)
        {
            var wait = TimeSpan.FromSeconds((double)(due - now) / System.Diagnostics.Stopwatch.Frequency);
            try
            {
                await Task.Delay(wait, stopping);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return due;
    }
}
