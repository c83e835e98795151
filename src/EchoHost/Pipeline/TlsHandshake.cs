using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using EchoHost.Configuration;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace EchoHost.Pipeline;

/// <summary>Why a TLS handshake failed, as the <c>reason</c> tag of refusals.</summary>
internal static class TlsRefusals
{
    public const string NotTls = "tls_not_tls";
    public const string Protocol = "tls_protocol";
    public const string ServerName = "tls_server_name";
    public const string Timeout = "tls_handshake_timeout";
    public const string Failed = "tls_handshake_failed";
    public const string Handshakes = "tls_handshakes";
    public const string HandshakesPerIp = "tls_handshakes_per_ip";

    public static IReadOnlyList<string> TagValues { get; } = [NotTls, Protocol, ServerName, Timeout, Failed, Handshakes, HandshakesPerIp];
}

/// <summary>
/// TLS on a listener with Kestrel's own TLS connection middleware (<c>UseHttps</c>), which serves any connection
/// handler: TLS 1.2 and 1.3 only, and the certificate asked of <paramref name="certificate"/> on every handshake,
/// so a rotated file is used by the next client. Kestrel ends a failed handshake quietly (Debug); around it, this
/// tells why — plain text sent to a TLS port, an old protocol, a server name the certificate does not cover, a
/// timeout — logs it at Information and counts it as a refusal with that reason. Others are never disturbed.
/// </summary>
/// <remarks>
/// <c>HandshakeTimeout</c> is one deadline from the accept, on the host's <see cref="TimeProvider"/>, for the wait for
/// the first byte and Kestrel's handshake together. Kestrel's own timeout is fixed per listener and starts again when
/// its handshake does, so alone it would let a client that sends one byte and stalls hold its slot for nearly twice
/// the timeout: when the deadline passes first, the connection is aborted, and Kestrel's timeout is only a backstop.
/// <para>
/// A handshake in progress holds what the client sent of its ClientHello — TLS lets one take ~128 KiB, ~250 KiB of
/// native memory until the deadline — so <c>Tls:MaxHandshakesPerIp</c> and <c>Tls:MaxHandshakes</c> bound how many
/// may be in progress from one client IP and on the listener; one more is refused at once, logged and counted. A
/// handshake counts from the client's first byte (a silent connection holds no handshake memory, and counting it
/// would let a few addresses of idle sockets lock every TLS client out) until it is done or has failed.
/// </para>
/// <para>
/// Only a ClientHello that fits in its first TLS record says which versions the client offers: .NET reads the
/// first record alone, and when the hello goes on in further records it reports the record header's version (TLS
/// 1.0 by convention) as if it were the offer. So the first record's header and the hello's length are read before
/// Kestrel takes the bytes, and an old protocol is the reason only when the whole hello was in that record.
/// </para>
/// </remarks>
internal static partial class TlsHandshake
{
    public static ListenOptions UseEchoHostTls(this ListenOptions listenOptions, ListenerDefinition listener,
        Func<SslStreamCertificateContext> certificate, ListenerMetrics metrics, TlsHandshakeMemory memory, TimeProvider time, ILogger logger)
    {
        var timeout = listener.Tls?.HandshakeTimeout ?? ListenerOptions.DefaultTlsHandshakeTimeout;
        var limits = new HandshakeLimits(listener.Tls?.MaxHandshakes ?? TlsOptions.DefaultMaxHandshakes,
            listener.Tls?.MaxHandshakesPerIp ?? TlsOptions.DefaultMaxHandshakesPerIp, memory);
        metrics.DeclareConnectionSeries(TlsRefusals.TagValues);
        listenOptions.Use(next => connection => ObserveAsync(connection, next, listener, timeout, limits, time, metrics, logger));
        listenOptions.UseHttps(new TlsHandshakeCallbackOptions
        {
            // The backstop: it starts when Kestrel's handshake does, which may be the same millisecond as the accept, so it
            // gets as long again (at least a second) for the deadline to pass first and the end to be told as a timeout.
            HandshakeTimeout = Backstop(timeout),
            OnConnection = context =>
            {
                var attempt = context.Connection.Features.Get<Attempt>();
                var current = certificate();
                if (attempt is not null)
                {
                    attempt.ClientHello = context.ClientHelloInfo;
                    attempt.Certificate = current;
                }

                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = current,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateRequired = false,
                });
            },
        });
        listenOptions.Use(next => connection =>
        {
            // The deadline may have passed just as the handshake finished: then the connection is aborted already.
            var attempt = connection.Features.Get<Attempt>();
            if (attempt is null)
            {
                return next(connection);
            }

            if (!attempt.TryEnd(Attempt.Established))
            {
                return Task.CompletedTask;
            }

            attempt.ReleaseHandshake();

            // Done in time: the deadline's timer is not kept for the rest of the timeout of every open connection.
            attempt.Deadline?.CancelAfter(Timeout.InfiniteTimeSpan);
            return next(connection);
        });
        return listenOptions;
    }

    private static TimeSpan Backstop(TimeSpan timeout)
    {
        var margin = timeout > TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1);
        return timeout < TimeSpan.MaxValue - margin ? timeout + margin : timeout;
    }

    /// <summary>The listener's handshakes in progress, in total and per client IP, with the limits they are held to.</summary>
    private sealed class HandshakeLimits(int maxHandshakes, int maxHandshakesPerIp, TlsHandshakeMemory memory)
    {
        /// <summary>Every listener's handshakes in progress, for the memory budget.</summary>
        public TlsHandshakeMemory Memory { get; } = memory;

        public int MaxHandshakes { get; } = maxHandshakes;

        public int MaxHandshakesPerIp { get; } = maxHandshakesPerIp;

        public ConnectionLimiter InProgress { get; } = new(maxHandshakes, maxHandshakesPerIp);
    }

    /// <summary>What one connection's handshake got to, filled in by the stages around and inside Kestrel's middleware.</summary>
    private sealed class Attempt(HandshakeLimits limits, IPAddress? client)
    {
        public const int Handshaking = 0;
        public const int Established = 1;
        public const int Expired = 2;
        public const int Failed = 3;

        private int _state;
        private int _released;

        /// <summary>Whether the whole ClientHello was in the client's first TLS record; null when too little arrived to tell.</summary>
        public bool? HelloInOneRecord { get; init; }

        /// <summary>Gives back the handshake's place under the limits, once (the handshake is done, failed or expired).</summary>
        public void ReleaseHandshake()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limits.InProgress.Release(client);
                limits.Memory.Ended();
            }
        }

        public SslClientHelloInfo? ClientHello { get; set; }

        public SslStreamCertificateContext? Certificate { get; set; }

        /// <summary>The handshake deadline, from the accept; alive as long as the connection.</summary>
        public CancellationTokenSource? Deadline { get; init; }

        public int State => Volatile.Read(ref _state);

        /// <summary>Ends the handshake as <paramref name="end"/>, unless it has ended already (first one wins).</summary>
        public bool TryEnd(int end) => Interlocked.CompareExchange(ref _state, end, Handshaking) == Handshaking;
    }

    private static async Task ObserveAsync(ConnectionContext connection, ConnectionDelegate next, ListenerDefinition listener,
        TimeSpan timeout, HandshakeLimits limits, TimeProvider time, ListenerMetrics metrics, ILogger logger)
    {
        var remote = connection.Features.Get<ConnectionSession>()?.RemoteEndPoint ?? connection.RemoteEndPoint as IPEndPoint;
        using var deadline = new CancellationTokenSource(timeout, time);

        // Look at the first bytes before Kestrel does: plain text gets a precise reason at once, not a timeout, and the
        // first record's header and the hello's length say whether the hello fits in that record.
        var head = await PeekHelloHeadAsync(connection, deadline.Token);
        switch (head.Outcome)
        {
            case Peek.Stopped:
                return;
            case Peek.TimedOut when head.Received == 0:
                Refuse(TlsRefusals.Timeout, $"the client sent nothing within the handshake timeout ({timeout})");
                return;
            case Peek.TimedOut:
                Refuse(TlsRefusals.Timeout, $"no complete ClientHello within the handshake timeout ({timeout}; {head.Received} bytes received)");
                return;
            case Peek.Closed:
                Refuse(TlsRefusals.Failed, "the client closed the connection before sending anything");
                return;
            case Peek.Byte when head.First != 0x16:
                Refuse(TlsRefusals.NotTls, $"the first byte 0x{head.First:X2} does not start a TLS handshake (plain text sent to a TLS port?)");
                return;
        }

        switch (limits.InProgress.TryAcquire(remote?.Address))
        {
            case LimitRefusal.PerIp:
                metrics.ConnectionRefused(TlsRefusals.HandshakesPerIp);
                LogRefusedPerIp(logger, listener.Name, remote, limits.MaxHandshakesPerIp);
                return;
            case LimitRefusal.MaxConnections:
                metrics.ConnectionRefused(TlsRefusals.Handshakes);
                LogRefusedMaxHandshakes(logger, listener.Name, remote, limits.MaxHandshakes);
                return;
        }

        limits.Memory.Started();
        var attempt = new Attempt(limits, remote?.Address) { Deadline = deadline, HelloInOneRecord = head.HelloInOneRecord };
        connection.Features.Set(attempt);
        using (deadline.Token.UnsafeRegister(static state =>
        {
            var (attempt, connection) = ((Attempt, ConnectionContext))state!;
            if (attempt.TryEnd(Attempt.Expired))
            {
                connection.Abort(new ConnectionAbortedException("The TLS handshake did not finish within the handshake timeout."));
            }
        }, (attempt, connection)))
        {
            try
            {
                await next(connection);
            }
            finally
            {
                attempt.ReleaseHandshake();
            }
        }

        if (attempt.State == Attempt.Established)
        {
            return;
        }

        var timedOut = !attempt.TryEnd(Attempt.Failed) && attempt.State == Attempt.Expired;
        var (reason, text) = Classify(attempt, timedOut);
        Refuse(reason, text);

        void Refuse(string reason, string text)
        {
            metrics.ConnectionRefused(reason);
            LogFailed(logger, listener.Name, connection.ConnectionId, remote, text);
        }
    }

    private static (string Reason, string Text) Classify(Attempt attempt, bool timedOut)
    {
        if (attempt.ClientHello is not { } hello)
        {
            return timedOut ? (TlsRefusals.Timeout, "no complete ClientHello within the handshake timeout")
                : (TlsRefusals.Failed, "the client's first TLS record was not a valid ClientHello");
        }

        // Only a hello read whole says what it offers; otherwise this is the first record header's version.
        if (attempt.HelloInOneRecord == true
            && (hello.SslProtocols & (SslProtocols.Tls12 | SslProtocols.Tls13)) == 0 && hello.SslProtocols != SslProtocols.None)
        {
            return (TlsRefusals.Protocol, $"the client offers {Highest(hello.SslProtocols)} at most; this listener accepts TLS 1.2 and 1.3");
        }

        if (!string.IsNullOrEmpty(hello.ServerName) && attempt.Certificate?.TargetCertificate is { } certificate
            && !certificate.MatchesHostname(hello.ServerName, allowWildcards: true, allowCommonName: true))
        {
            return (TlsRefusals.ServerName,
                $"the client asked for '{hello.ServerName}' (SNI), which the certificate ({certificate.Subject}) does not cover");
        }

        return timedOut
            ? (TlsRefusals.Timeout, "the handshake did not finish within the handshake timeout")
            : (TlsRefusals.Failed, "the handshake failed (the client rejected the certificate, or no cipher was in common)");
    }

    /// <summary>The newest protocol a ClientHello offers, as people write it (the enum's old names are obsolete).</summary>
    private static string Highest(SslProtocols protocols)
    {
        (int Flag, string Name)[] known = [(768, "TLS 1.1"), (192, "TLS 1.0"), (48, "SSL 3.0"), (12, "SSL 2.0")];
        return known.FirstOrDefault(k => ((int)protocols & k.Flag) != 0).Name ?? protocols.ToString();
    }

    private enum Peek
    {
        Byte,
        Closed,
        TimedOut,
        Stopped,
    }

    /// <summary>What <see cref="PeekHelloHeadAsync"/> saw: how it ended, the first byte, how many bytes, and the hello's fit.</summary>
    private readonly record struct HelloHead(Peek Outcome, byte First, long Received, bool? HelloInOneRecord);

    /// <summary>The record header (5 bytes) and the handshake message's header (4) that open a TLS handshake.</summary>
    private const int HelloHeadBytes = 9;

    /// <summary>
    /// The client's first bytes, without consuming them: at once when the first is not a handshake record's, else as
    /// soon as the first record's header and its handshake header are in (a real client sends its whole hello at once),
    /// or the client stopped sending.
    /// </summary>
    private static async Task<HelloHead> PeekHelloHeadAsync(ConnectionContext connection, CancellationToken deadline)
    {
        var input = connection.Transport.Input;
        var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown, deadline);
        var received = 0L;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancel.Token);
                var buffer = result.Buffer;
                received = buffer.Length;
                if (buffer.IsEmpty)
                {
                    input.AdvanceTo(buffer.Start);
                    return new HelloHead(Peek.Closed, 0, 0, null);
                }

                var first = buffer.FirstSpan[0];
                if (first != 0x16 || buffer.Length >= HelloHeadBytes || result.IsCompleted)
                {
                    var inOneRecord = HelloInOneRecord(buffer);
                    input.AdvanceTo(buffer.Start);
                    return new HelloHead(Peek.Byte, first, received, inOneRecord);
                }

                // Everything examined: the next read waits for more.
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return new HelloHead(shutdown.IsCancellationRequested ? Peek.Stopped : Peek.TimedOut, 0, received, null);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
        {
            return new HelloHead(Peek.Closed, 0, received, null);
        }
    }

    /// <summary>Whether the ClientHello starting <paramref name="buffer"/> ends within its first record; null when it cannot tell.</summary>
    private static bool? HelloInOneRecord(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < HelloHeadBytes)
        {
            return null;
        }

        Span<byte> head = stackalloc byte[HelloHeadBytes];
        buffer.Slice(0, HelloHeadBytes).CopyTo(head);
        var recordLength = (head[3] << 8) | head[4];
        var helloLength = (head[6] << 16) | (head[7] << 8) | head[8];
        return head[5] == 1 && 4 + helloLength <= recordLength;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: TLS handshakes in progress from this IP at the limit (Tls:MaxHandshakesPerIp = {Limit})")]
    private static partial void LogRefusedPerIp(ILogger logger, string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} refused {RemoteEndPoint}: TLS handshakes in progress at the listener's limit (Tls:MaxHandshakes = {Limit})")]
    private static partial void LogRefusedMaxHandshakes(ILogger logger, string listener, IPEndPoint? remoteEndPoint, int limit);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint}: TLS handshake failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string listener, string connectionId, IPEndPoint? remoteEndPoint, string reason);
}
