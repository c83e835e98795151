using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EchoHost.Hosting;
using EchoHost.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace EchoHost.Tests.Hosting;

public sealed class TlsEndToEndTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    private async Task<TestHost> StartTlsEchoAsync(Dictionary<string, string?>? more = null)
    {
        _certificates.WritePem();
        var config = _certificates.PemConfig();
        foreach (var (key, value) in more ?? [])
        {
            config[key] = value;
        }

        return await TestHost.StartAsync(config);
    }

    private static async Task<SslStream> ConnectTlsAsync(IPEndPoint endPoint, string serverName = "localhost") =>
        await HandshakeAsync(await SocketExtensions.ConnectAsync(endPoint), serverName);

    private static async Task<SslStream> HandshakeAsync(Socket socket, string serverName = "localhost")
    {
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            // The test certificate is self-signed; what is under test is the server, not the client's trust store.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, TestTimeouts.Token());
        return tls;
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        var all = new MemoryStream();
        await stream.CopyToAsync(all, TestTimeouts.Token(TestTimeouts.Long));
        return all.ToArray();
    }

    private static string Port(TestHost host, string listener = "Echo") => host.EndPoint(listener).Port.ToString();

    [ToolFact(ExternalTools.Ncat)]
    public async Task Ncat_ssl_gets_every_byte_back_and_its_half_close_ends_the_session()
    {
        await using var host = await StartTlsEchoAsync();
        var text = string.Concat(Enumerable.Range(0, 5000).Select(i => $"line {i}: the quick brown fox jumps over the lazy dog\n"));

        var result = await ExternalTools.RunAsync("ncat", ["--ssl", "127.0.0.1", Port(host)], text);

        Assert.Equal(text, result.EnsureSuccess());
        await host.Logs.WaitForAsync(e => e.Message.Contains("closed (closed by client)") && e.Message.Contains($"{Encoding.UTF8.GetByteCount(text)} bytes in"));
    }

    [ToolFact(ExternalTools.Openssl)]
    public async Task Openssl_s_client_gets_every_byte_back()
    {
        await using var host = await StartTlsEchoAsync();
        var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"{i} echo over TLS\n")));
        await using var client = InteractiveTool.Start("openssl", "s_client", "-quiet", "-connect", $"127.0.0.1:{Port(host)}");

        await client.WriteAsync(payload);
        var echoed = await client.WaitForOutputAsync(output => output.Length >= payload.Length);

        Assert.Equal(payload, echoed);
    }

    [ToolFact(ExternalTools.Openssl, ExternalTools.Ncat)]
    public async Task Chat_over_tls_with_s_client_and_ncat()
    {
        _certificates.WritePem();
        var config = _certificates.PemConfig("Chat");
        config["EchoHost:Listeners:Chat:Protocol"] = "Chat";
        config["EchoHost:Listeners:Chat:Port"] = "0";
        await using var host = await TestHost.StartAsync(config);
        await using var reader = InteractiveTool.Start("openssl", "s_client", "-quiet", "-connect", $"127.0.0.1:{Port(host, "Chat")}");
        await reader.WaitForTextAsync("You are now in lobby");

        // --no-shutdown: at the end of its input ncat would otherwise close its sending side (a TLS close_notify) while
        // the server answers /quit, and a server that closes with those bytes unread resets the connection.
        var writer = await ExternalTools.RunAsync("ncat", ["--ssl", "--no-shutdown", "127.0.0.1", Port(host, "Chat")], "/nick tlsuser\nhello over TLS\n/quit\n");

        // The whole session, in order, up to the goodbye, and a clean end: the server's close_notify.
        var transcript = writer.EnsureSuccess();
        var steps = new[] { "*** Welcome to EchoHost chat", "*** You are now known as tlsuser", "*** Goodbye, tlsuser!" }
            .Select(step => transcript.IndexOf(step, StringComparison.Ordinal)).ToArray();
        Assert.True(steps.All(at => at >= 0) && steps.SequenceEqual(steps.Order()), transcript);
        Assert.Contains("hello over TLS", Encoding.UTF8.GetString(await reader.WaitForTextAsync("hello over TLS")));
    }

    [Fact]
    public async Task Half_close_over_tls_returns_a_mebibyte_byte_exact()
    {
        await using var host = await StartTlsEchoAsync();
        await using var tls = await ConnectTlsAsync(host.EndPoint());
        var payload = new byte[1024 * 1024];
        Random.Shared.NextBytes(payload);

        var reading = ReadToEndAsync(tls);
        await tls.WriteAsync(payload, TestTimeouts.Token());
        await tls.ShutdownAsync();  // close_notify: TLS's half-close

        Assert.Equal(payload, await reading);
        Assert.Equal(SslProtocols.Tls13, tls.SslProtocol);
    }

    [Theory]
    [InlineData("Echo", "close_notify")]
    [InlineData("Echo", "FIN")]
    [InlineData("Chat", "/quit")]
    public async Task The_server_ends_every_tls_session_with_close_notify(string protocol, string clientEnd)
    {
        // Without close_notify, a client cannot tell the end from a cut (a truncation): OpenSSL 3 clients report
        // "unexpected eof while reading", and ncat exits 1 with "Input/output error" after printing every byte.
        _certificates.WritePem();
        var config = _certificates.PemConfig();
        config["EchoHost:Listeners:Echo:Protocol"] = protocol;
        await using var host = await TestHost.StartAsync(config);
        var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        var received = new RecordingStream(new NetworkStream(socket, ownsSocket: true));
        await using var tls = new SslStream(received);
        // TLS 1.2, where a record's content type is not encrypted: the alert can be told from the data on the wire.
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, TestTimeouts.Token());

        var reading = ReadToEndAsync(tls);
        await tls.WriteAsync(Encoding.ASCII.GetBytes(protocol == "Chat" ? "/quit\n" : "hello\n"), TestTimeouts.Token());
        switch (clientEnd)
        {
            case "close_notify":
                await tls.ShutdownAsync();
                break;
            case "FIN":
                // As ncat ends its input: a TCP half-close, no close_notify.
                socket.Shutdown(SocketShutdown.Send);
                break;
        }

        Assert.Contains(protocol == "Chat" ? "Goodbye" : "hello", Encoding.ASCII.GetString(await reading));
        const byte alert = 21, applicationData = 23;
        var records = TlsRecordTypes(received.Received);
        Assert.Contains(applicationData, records);
        Assert.True(records[^1] == alert, $"after the client's {clientEnd}, the last record before the server's FIN was of type {records[^1]}, not an alert (close_notify)");
    }

    [Fact]
    public async Task A_tls_client_that_half_closes_and_never_reads_is_still_aborted_after_the_close_grace()
    {
        // As the plain-TCP test in CloseGraceEndToEndTests, over TLS: the close_notify the server now sends at the end
        // must not wait for ever on a client that takes nothing; the close grace still ends the connection.
        _certificates.WritePem();
        var config = _certificates.PemConfig();
        config["EchoHost:Listeners:Echo:IdleTimeout"] = "00:00:00";
        await using var host = await TestHost.StartAsync(config, builder => builder.Services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = endPoint =>
        {
            var listen = SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
            listen.SendBufferSize = 8192;
            return listen;
        }));
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(host.EndPoint());
        var clientEndPoint = socket.LocalEndPoint!.ToString();
        await using var tls = await HandshakeAsync(socket);

        await tls.WriteAsync(new byte[48 * 1024], TestTimeouts.Token());
        socket.Shutdown(SocketShutdown.Send);

        var aborted = await host.Logs.WaitForAsync(e => e.Message.Contains("aborting") && e.State["RemoteEndPoint"]?.ToString() == clientEndPoint);
        Assert.Equal(LogLevel.Information, aborted.Level);
        Assert.True(await socket.WaitForServerCloseAsync());
        // The access line is written once the whole pipeline, the TLS ending included, has returned: nothing hangs on.
        await host.Logs.WaitForAsync(e => e.Message.Contains(" closed (") && e.State["RemoteEndPoint"]?.ToString() == clientEndPoint);
    }

    /// <summary>The content type of each TLS record in <paramref name="wire"/>, in order.</summary>
    private static List<byte> TlsRecordTypes(byte[] wire)
    {
        var types = new List<byte>();
        for (var at = 0; at + 5 <= wire.Length; at += 5 + (wire[at + 3] << 8 | wire[at + 4]))
        {
            types.Add(wire[at]);
        }

        return types;
    }

    /// <summary>A stream that keeps a copy of every byte read from it.</summary>
    private sealed class RecordingStream(Stream inner) : AsyncOnlyStream
    {
        private readonly MemoryStream _read = new();

        public byte[] Received => _read.ToArray();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = await inner.ReadAsync(buffer, cancellationToken);
            _read.Write(buffer.Span[..count]);
            return count;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    [ToolFact(ExternalTools.Openssl, ExternalTools.Ncat)]
    public async Task Failed_handshakes_are_logged_and_counted_by_reason_and_disturb_no_one()
    {
        await using var host = await StartTlsEchoAsync();
        await using var bystander = await ConnectTlsAsync(host.EndPoint());
        var port = Port(host);

        // Plain text to the TLS port.
        var plain = await ExternalTools.RunAsync("ncat", ["127.0.0.1", port], "GET / HTTP/1.0\r\n\r\n");
        Assert.Equal("", plain.StandardOutput);
        // An old protocol: TLS 1.1 only (OpenSSL 3 needs security level 0 to even offer it).
        await ExternalTools.RunAsync("openssl", ["s_client", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-connect", $"127.0.0.1:{port}"], "");
        // A server name the certificate does not cover: the client rejects the certificate.
        var sni = await ExternalTools.RunAsync("openssl", ["s_client", "-verify_return_error", "-CAfile", _certificates.CertificatePath,
            "-servername", "wrong.example", "-verify_hostname", "wrong.example", "-connect", $"127.0.0.1:{port}"], "");
        Assert.NotEqual(0, sni.ExitCode);

        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed: the first byte 0x47 does not start a TLS handshake"));
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed: the client offers TLS 1.1 at most; this listener accepts TLS 1.2 and 1.3"));
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed: the client asked for 'wrong.example' (SNI)"));
        Assert.All(host.Logs.Entries.Where(e => e.Message.Contains("TLS handshake failed")), e => Assert.Equal(LogLevel.Information, e.Level));
        var samples = await host.ScrapeAsync();
        foreach (var reason in new[] { "tls_not_tls", "tls_protocol", "tls_server_name" })
        {
            Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", reason)));
        }

        Assert.Equal(0, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "tls_handshake_timeout")));
        Assert.Equal(1, samples.Value("echohost_connections_opened_total", ("echohost_listener", "Echo")));

        var ping = "still here\n"u8.ToArray();
        await bystander.WriteAsync(ping);
        var back = new byte[ping.Length];
        await bystander.ReadExactlyAsync(back, TestTimeouts.Token());
        Assert.Equal(ping, back);
    }

    [Fact]
    public async Task A_client_that_never_says_hello_is_cut_at_the_handshake_timeout()
    {
        await using var host = await StartTlsEchoAsync(new() { ["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "00:00:00.300" });
        using var silent = await SocketExtensions.ConnectAsync(host.EndPoint());

        Assert.True(await silent.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed: the client sent nothing within the handshake timeout"));
        // The refusal is counted before it is logged, so the line above means the count is in.
        var samples = await host.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "tls_handshake_timeout")));
        Assert.Equal(0, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "tls_handshake_failed")));
    }

    [Fact]
    public async Task A_client_that_sends_its_hello_and_stalls_is_cut_at_the_deadline_counted_from_accept()
    {
        // The listener's clock, with the handshake deadline's timer in the test's hands: Kestrel's own timeout (on the
        // real clock, an hour away) can never be what closes this connection.
        var clock = new DeadlineClock(TimeSpan.FromHours(1));
        await using var host = await StartWithDeadlineClockAsync(clock);
        using var stalled = await SocketExtensions.ConnectAsync(host.EndPoint());
        var deadline = await clock.Created.WaitAsync(TestTimeouts.Default);

        // A whole ClientHello, then nothing: the server answers it (so it is in Kestrel's handshake, past the first
        // byte) and waits for the client's Finished, which never comes.
        await stalled.SendAllAsync(await ClientHelloAsync());
        Assert.NotEmpty(await stalled.ReceiveExactlyAsync(1));
        deadline.Fire();

        Assert.True(await stalled.WaitForServerCloseAsync());
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS handshake failed: the handshake did not finish within the handshake timeout"));
        var samples = await host.ScrapeAsync();
        Assert.Equal(1, samples.Value("echohost_connections_refused_total", ("echohost_listener", "Echo"), ("reason", "tls_handshake_timeout")));
        // Aborting the handshake is a refusal like any other, not an error.
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_finished_handshake_stops_its_deadline_timer()
    {
        var clock = new DeadlineClock(TimeSpan.FromHours(1));
        await using var host = await StartWithDeadlineClockAsync(clock);

        await using var tls = await ConnectTlsAsync(host.EndPoint());
        var deadline = await clock.Created.WaitAsync(TestTimeouts.Default);

        // No timer per open connection for the rest of the timeout once the handshake is done.
        Assert.Equal(Timeout.InfiniteTimeSpan, await deadline.Changed.WaitAsync(TestTimeouts.Default));
        await tls.WriteAsync("still here\n"u8.ToArray());
        var echoed = new byte[11];
        await tls.ReadExactlyAsync(echoed);
        Assert.Equal("still here\n"u8.ToArray(), echoed);
    }

    /// <summary>
    /// An echo TLS listener whose handshake deadline is an hour on <paramref name="clock"/>, so only the test fires it
    /// (Kestrel's own timeout, on the real clock, is as far away).
    /// </summary>
    private Task<TestHost> StartWithDeadlineClockAsync(DeadlineClock clock)
    {
        _certificates.WritePem();
        var config = _certificates.PemConfig();
        config["EchoHost:Listeners:Echo:Tls:HandshakeTimeout"] = "01:00:00";
        return TestHost.StartAsync(config, builder => builder.Services.AddSingleton<TimeProvider>(clock));
    }

    /// <summary>The ClientHello a real client (<see cref="SslStream"/>) sends first.</summary>
    private static async Task<byte[]> ClientHelloAsync()
    {
        var capture = new FirstWriteStream();
        var tls = new SslStream(capture);
        using var stop = new CancellationTokenSource();
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, stop.Token);
        var hello = await capture.Written.WaitAsync(TestTimeouts.Default);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        return hello;
    }

    /// <summary>Keeps the first write; a read waits until cancelled, so the client never gets further.</summary>
    private sealed class FirstWriteStream : AsyncOnlyStream
    {
        private readonly TaskCompletionSource<byte[]> _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<byte[]> Written => _written.Task;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written.TrySetResult(buffer.ToArray());
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// What a test stream under an <see cref="SslStream"/> needs besides its asynchronous reads and writes: the array
    /// overloads go to them, everything synchronous or seekable is refused.
    /// </summary>
    private abstract class AsyncOnlyStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

        public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// The system clock, except that a timer due after <paramref name="deadline"/> — the handshake deadline — is the
    /// test's to fire.
    /// </summary>
    private sealed class DeadlineClock(TimeSpan deadline) : TimeProvider
    {
        private readonly TaskCompletionSource<ManualTimer> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<ManualTimer> Created => _created.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != deadline)
            {
                return base.CreateTimer(callback, state, dueTime, period);
            }

            var timer = new ManualTimer(callback, state);
            _created.TrySetResult(timer);
            return timer;
        }
    }

    private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
    {
        private readonly TaskCompletionSource<TimeSpan> _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _fired;

        /// <summary>The due time of the first <see cref="Change"/>.</summary>
        public Task<TimeSpan> Changed => _changed.Task;

        public void Fire()
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                callback(state);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _changed.TrySetResult(dueTime);
            return true;
        }

        public void Dispose() => Interlocked.Exchange(ref _fired, 1);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Tls_1_2_is_accepted_and_echoes_byte_exact()
    {
        await using var host = await StartTlsEchoAsync();
        var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, TestTimeouts.Token());
        var payload = new byte[64 * 1024];
        Random.Shared.NextBytes(payload);

        var reading = ReadToEndAsync(tls);
        await tls.WriteAsync(payload, TestTimeouts.Token());
        await tls.ShutdownAsync();

        Assert.Equal(SslProtocols.Tls12, tls.SslProtocol);
        Assert.Equal(payload, await reading);
    }

    [Fact]
    public async Task A_rotated_certificate_is_served_to_new_clients_and_a_broken_one_keeps_the_last_good()
    {
        await using var host = await StartTlsEchoAsync();
        await using var before = await ConnectTlsAsync(host.EndPoint());
        var first = new X509Certificate2(before.RemoteCertificate!);

        var renewed = _certificates.WritePem(TestCertificates.Create());
        _certificates.Age(TimeSpan.FromSeconds(5));
        var served = await ServedAfterAsync(host, c => c.Thumbprint == renewed.Thumbprint);
        Assert.NotEqual(first.Thumbprint, served.Thumbprint);
        await host.Logs.WaitForAsync(e => e.Message.Contains("TLS certificate changed on disk; new connections get"));

        // A broken file: the last good certificate stays, and one error says why.
        await File.WriteAllTextAsync(_certificates.KeyPath, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        _certificates.Age(TimeSpan.FromSeconds(5));
        // The files are checked on a handshake, at most once a second: a few clients over a few seconds.
        for (var i = 0; i < 4; i++)
        {
            await using var after = await ConnectTlsAsync(host.EndPoint());
            Assert.Equal(renewed.Thumbprint, new X509Certificate2(after.RemoteCertificate!).Thumbprint);
            await Task.Delay(TimeSpan.FromSeconds(0.6));
        }

        var error = await host.Logs.WaitForAsync(e => e.Level == LogLevel.Error);

        Assert.Contains("cannot be used; keeping the current one: EchoHost:Listeners:Echo:Tls:KeyPath:", error.Message);
        Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error);

        // The connection made before any of it still echoes.
        await before.WriteAsync("old\n"u8.ToArray());
        var back = new byte[4];
        await before.ReadExactlyAsync(back, TestTimeouts.Token());
        Assert.Equal("old\n"u8.ToArray(), back);
    }

    /// <summary>Bounded polling: new connections until one is served a certificate that <paramref name="match"/>es.</summary>
    private static async Task<X509Certificate2> ServedAfterAsync(TestHost host, Func<X509Certificate2, bool> match)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            await using var tls = await ConnectTlsAsync(host.EndPoint());
            var certificate = new X509Certificate2(tls.RemoteCertificate!);
            if (match(certificate) || DateTime.UtcNow > deadline)
            {
                return certificate;
            }

            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_proxy_header_comes_first_then_the_handshake_and_the_client_is_the_one_in_the_header()
    {
        await using var host = await StartTlsEchoAsync(new()
        {
            ["EchoHost:Listeners:Echo:ProxyProtocol"] = "V1",
            ["EchoHost:Listeners:Echo:TrustedProxies:0"] = "127.0.0.1",
            ["EchoHost:Listeners:Echo:Banner"] = "you are {remote}",
        });
        var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.SendAllAsync(ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.9:4000"), IPEndPoint.Parse("198.51.100.1:443")));
        await using var tls = await HandshakeAsync(socket);

        var banner = new byte["you are 203.0.113.9:4000\r\n".Length];
        await tls.ReadExactlyAsync(banner, TestTimeouts.Token());
        Assert.Equal("you are 203.0.113.9:4000\r\n", Encoding.ASCII.GetString(banner));
    }

    [Fact]
    public async Task A_kubernetes_secret_volume_swapping_its_data_link_is_picked_up()
    {
        // A Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/; an update writes a new timestamped
        // folder and swaps ..data.
        var volume = _certificates.Directory;
        void WriteVersion(string name, X509Certificate2 certificate)
        {
            var folder = Directory.CreateDirectory(Path.Combine(volume, name)).FullName;
            File.WriteAllText(Path.Combine(folder, "tls.crt"), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(folder, "tls.key"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            foreach (var file in Directory.GetFiles(folder))
            {
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(-5));
            }

            var link = Path.Combine(volume, "..data_tmp");
            File.CreateSymbolicLink(link, name);
            // rename(2) replaces the old link atomically, as the kubelet does; File.Move would follow the link.
            Assert.Equal(0, Rename(link, Path.Combine(volume, "..data")));
        }

        var first = TestCertificates.Create();
        WriteVersion("..2026_01_01_00_00_00.1", first);
        File.CreateSymbolicLink(Path.Combine(volume, "tls.crt"), "..data/tls.crt");
        File.CreateSymbolicLink(Path.Combine(volume, "tls.key"), "..data/tls.key");
        await using var host = await TestHost.StartAsync(_certificates.PemConfig());
        await using (var before = await ConnectTlsAsync(host.EndPoint()))
        {
            Assert.Equal(first.Thumbprint, new X509Certificate2(before.RemoteCertificate!).Thumbprint);
        }

        var renewed = TestCertificates.Create();
        WriteVersion("..2026_02_01_00_00_00.2", renewed);

        Assert.Equal(renewed.Thumbprint, (await ServedAfterAsync(host, c => c.Thumbprint == renewed.Thumbprint)).Thumbprint);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string oldPath, string newPath);

    [Fact]
    public async Task A_pkcs12_file_with_its_password_in_the_environment_serves()
    {
        var variable = $"ECHOHOST_TEST_P12_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "s3cret");
        try
        {
            var certificate = _certificates.WritePkcs12("s3cret");
            await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
            {
                ["EchoHost:Listeners:Echo:Tls:Pkcs12Path"] = _certificates.Pkcs12Path,
                ["EchoHost:Listeners:Echo:Tls:PasswordEnvironmentVariable"] = variable,
            });
            await using var tls = await ConnectTlsAsync(host.EndPoint());
            Assert.Equal(certificate.Thumbprint, new X509Certificate2(tls.RemoteCertificate!).Thumbprint);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task The_key_may_follow_the_certificate_in_one_file_or_be_encrypted_with_a_password_from_the_environment()
    {
        var certificate = TestCertificates.Create();
        var combined = Path.Combine(_certificates.Directory, "combined.pem");
        await File.WriteAllTextAsync(combined, certificate.ExportCertificatePem() + "\n" + certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var encrypted = Path.Combine(_certificates.Directory, "encrypted.key");
        await File.WriteAllTextAsync(encrypted, certificate.GetECDsaPrivateKey()!.ExportEncryptedPkcs8PrivateKeyPem("pem-pass"u8,
            new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc,
                System.Security.Cryptography.HashAlgorithmName.SHA256, 100_000)));
        await File.WriteAllTextAsync(_certificates.CertificatePath, certificate.ExportCertificatePem());
        var variable = $"ECHOHOST_TEST_PEM_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "pem-pass");
        try
        {
            await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
            {
                ["EchoHost:Listeners:Echo:Tls:CertificatePath"] = combined,
                ["EchoHost:Listeners:Second:Protocol"] = "Echo",
                ["EchoHost:Listeners:Second:Port"] = "0",
                ["EchoHost:Listeners:Second:Tls:CertificatePath"] = _certificates.CertificatePath,
                ["EchoHost:Listeners:Second:Tls:KeyPath"] = encrypted,
                ["EchoHost:Listeners:Second:Tls:PasswordEnvironmentVariable"] = variable,
            });
            foreach (var listener in new[] { "Echo", "Second" })
            {
                await using var tls = await ConnectTlsAsync(host.EndPoint(listener));
                Assert.Equal(certificate.Thumbprint, new X509Certificate2(tls.RemoteCertificate!).Thumbprint);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    public static TheoryData<string, string> StartupFailures => new()
    {
        { "missing", "EchoHost:Listeners:Echo:Tls:CertificatePath: the file '" },
        { "mismatched", "EchoHost:Listeners:Echo:Tls:KeyPath: '" },
        { "expired", "EchoHost:Listeners:Echo:Tls:CertificatePath: the certificate CN=localhost expired on " },
        { "not-yet-valid", "EchoHost:Listeners:Echo:Tls:CertificatePath: the certificate CN=localhost is not valid before " },
        { "wrong-password", "EchoHost:Listeners:Echo:Tls:Pkcs12Path: cannot read '" },
        { "unset-password", "EchoHost:Listeners:Echo:Tls:PasswordEnvironmentVariable: the environment variable 'ECHOHOST_TEST_UNSET_VARIABLE' is not set" },
    };

    [Theory]
    [MemberData(nameof(StartupFailures))]
    public async Task A_bad_certificate_at_start_is_one_line_naming_the_key(string problem, string expected)
    {
        var config = _certificates.PemConfig();
        switch (problem)
        {
            case "missing":
                config["EchoHost:Listeners:Echo:Tls:CertificatePath"] = Path.Combine(_certificates.Directory, "nope.crt");
                break;
            case "mismatched":
                var other = new TestCertificates();
                other.WritePem();
                _certificates.WritePem();
                File.Copy(other.KeyPath, _certificates.KeyPath, overwrite: true);
                other.Dispose();
                break;
            case "expired":
                _certificates.WritePem(TestCertificates.Create(notBefore: DateTimeOffset.UtcNow.AddDays(-30), notAfter: DateTimeOffset.UtcNow.AddDays(-1)));
                break;
            case "not-yet-valid":
                _certificates.WritePem(TestCertificates.Create(notBefore: DateTimeOffset.UtcNow.AddDays(1), notAfter: DateTimeOffset.UtcNow.AddDays(30)));
                break;
            case "wrong-password" or "unset-password":
                _certificates.WritePkcs12("right");
                Environment.SetEnvironmentVariable("ECHOHOST_TEST_WRONG_PASSWORD", "wrong");
                config = new()
                {
                    ["EchoHost:Listeners:Echo:Tls:Pkcs12Path"] = _certificates.Pkcs12Path,
                    ["EchoHost:Listeners:Echo:Tls:PasswordEnvironmentVariable"] =
                        problem == "wrong-password" ? "ECHOHOST_TEST_WRONG_PASSWORD" : "ECHOHOST_TEST_UNSET_VARIABLE",
                };
                break;
        }

        // The certificate is read when Kestrel's options are, which is when the host is built.
        var failure = await Record.ExceptionAsync(async () => await (await TestHost.StartAsync(config)).DisposeAsync());

        var line = Assert.Single(StartupErrors.Describe(Assert.IsType<OptionsValidationException>(failure), null));
        Assert.StartsWith($"EchoHost: configuration error: {expected}", line);
        Assert.DoesNotContain('\n', line);
    }
}
