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

    public static IReadOnlyList<string> TagValues { get; } = [NotTls, Protocol, ServerName, Timeout, Failed];
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
/// </remarks>
internal static partial class TlsHandshake
{
    public static ListenOptions UseEchoHostTls(this ListenOptions listenOptions, ListenerDefinition listener,
        Func<SslStreamCertificateContext> certificate, ListenerMetrics metrics, TimeProvider time, ILogger logger)
    {
        var timeout = listener.Tls?.HandshakeTimeout ?? ListenerOptions.DefaultTlsHandshakeTimeout;
        metrics.DeclareConnectionSeries(TlsRefusals.TagValues);
        listenOptions.Use(next => connection => ObserveAsync(connection, next, listener, timeout, time, metrics, logger));
        listenOptions.UseHttps(new TlsHandshakeCallbackOptions
        {
            // The backstop: it starts after the first byte, so the deadline from the accept always passes first.
            HandshakeTimeout = timeout,
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

            // Done in time: the deadline's timer is not kept for the rest of the timeout of every open connection.
            attempt.Deadline?.CancelAfter(Timeout.InfiniteTimeSpan);
            return next(connection);
        });
        return listenOptions;
    }

    /// <summary>What one connection's handshake got to, filled in by the stages around and inside Kestrel's middleware.</summary>
    private sealed class Attempt
    {
        public const int Handshaking = 0;
        public const int Established = 1;
        public const int Expired = 2;
        public const int Failed = 3;

        private int _state;

        public SslClientHelloInfo? ClientHello { get; set; }

        public SslStreamCertificateContext? Certificate { get; set; }

        /// <summary>The handshake deadline, from the accept; alive as long as the connection.</summary>
        public CancellationTokenSource? Deadline { get; init; }

        public int State => Volatile.Read(ref _state);

        /// <summary>Ends the handshake as <paramref name="end"/>, unless it has ended already (first one wins).</summary>
        public bool TryEnd(int end) => Interlocked.CompareExchange(ref _state, end, Handshaking) == Handshaking;
    }

    private static async Task ObserveAsync(ConnectionContext connection, ConnectionDelegate next, ListenerDefinition listener,
        TimeSpan timeout, TimeProvider time, ListenerMetrics metrics, ILogger logger)
    {
        var remote = connection.Features.Get<ConnectionSession>()?.RemoteEndPoint ?? connection.RemoteEndPoint as IPEndPoint;
        using var deadline = new CancellationTokenSource(timeout, time);

        // Look at the first byte before Kestrel does: plain text gets a precise reason at once, not a timeout.
        var (first, outcome) = await PeekFirstByteAsync(connection, deadline.Token);
        switch (outcome)
        {
            case Peek.Stopped:
                return;
            case Peek.TimedOut:
                Refuse(TlsRefusals.Timeout, $"the client sent nothing within the handshake timeout ({timeout})");
                return;
            case Peek.Closed:
                Refuse(TlsRefusals.Failed, "the client closed the connection before sending anything");
                return;
            case Peek.Byte when first != 0x16:
                Refuse(TlsRefusals.NotTls, $"the first byte 0x{first:X2} does not start a TLS handshake (plain text sent to a TLS port?)");
                return;
        }

        var attempt = new Attempt { Deadline = deadline };
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
            await next(connection);
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

        if ((hello.SslProtocols & (SslProtocols.Tls12 | SslProtocols.Tls13)) == 0 && hello.SslProtocols != SslProtocols.None)
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

    /// <summary>The first byte the client sent, without consuming it, or why there is none.</summary>
    private static async Task<(byte First, Peek Outcome)> PeekFirstByteAsync(ConnectionContext connection, CancellationToken deadline)
    {
        var input = connection.Transport.Input;
        var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown, deadline);
        try
        {
            var result = await input.ReadAsync(cancel.Token);
            var buffer = result.Buffer;
            var outcome = buffer.IsEmpty ? (Peek.Closed, default(byte)) : (Peek.Byte, buffer.FirstSpan[0]);
            input.AdvanceTo(buffer.Start);
            return (outcome.Item2, outcome.Item1);
        }
        catch (OperationCanceledException)
        {
            return (0, shutdown.IsCancellationRequested ? Peek.Stopped : Peek.TimedOut);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
        {
            return (0, Peek.Closed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Listener} connection {ConnectionId} from {RemoteEndPoint}: TLS handshake failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string listener, string connectionId, IPEndPoint? remoteEndPoint, string reason);
}
