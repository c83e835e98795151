using System.Net;
using EchoHost.Configuration;
using EchoHost.Pipeline;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Pipeline;

public sealed class ProxyProtocolMiddlewareTests
{
    private static readonly IPEndPoint Proxy = IPEndPoint.Parse("127.0.0.1:40000");
    private static readonly IPEndPoint Client = IPEndPoint.Parse("203.0.113.7:51234");
    private static readonly IPEndPoint Front = IPEndPoint.Parse("198.51.100.1:443");

    private readonly LogCapture _logs = new();
    private readonly PipePair _pipes = new();
    private readonly TaskCompletionSource<byte[]> _served = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task RunAsync(ProxyProtocolMode mode = ProxyProtocolMode.Any, string trusted = "127.0.0.0/8", TimeSpan? timeout = null)
    {
        var listener = TestListeners.Echo() with
        {
            ProxyProtocol = mode,
            TrustedProxies = TrustedProxies.Parse([trusted]),
            ProxyProtocolTimeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        _pipes.Connection.RemoteEndPoint = Proxy;
        var middleware = new ProxyProtocolMiddleware(async connection =>
        {
            // The handler's view: the remote endpoint, then the first bytes after the header.
            var result = await connection.Transport.Input.ReadAsync();
            var bytes = result.Buffer.ToArray();
            connection.Transport.Input.AdvanceTo(result.Buffer.End);
            _served.SetResult(bytes);
        }, listener, TestMetrics.Listener(), _logs.CreateLogger("test"));
        return middleware.InvokeAsync(_pipes.Connection);
    }

    private async Task SendAsync(byte[] bytes, bool complete = false)
    {
        await _pipes.Client.Output.WriteAsync(bytes);
        if (complete)
        {
            await _pipes.Client.Output.CompleteAsync();
        }
    }

    private async Task AssertRefusedAsync(Task run, string reason)
    {
        await run.WaitAsync(TestTimeouts.Default);
        Assert.False(_served.Task.IsCompleted, "the handler must not run");
        var line = Assert.Single(_logs.Entries, e => e.Level == LogLevel.Information);
        Assert.Contains(reason, line.Message);
    }

    [Fact]
    public async Task A_v2_header_makes_the_client_the_remote_endpoint_and_leaves_the_data_after_it()
    {
        var run = RunAsync();
        await SendAsync([.. ProxyHeaders.V2(Client, Front, tlvs: [(0x05, new byte[16])]), .. "hello"u8.ToArray()]);

        Assert.Equal("hello"u8.ToArray(), await _served.Task.WaitAsync(TestTimeouts.Default));
        await run;
        Assert.Equal(Client, _pipes.Connection.RemoteEndPoint);
        var feature = _pipes.Connection.Features.Get<ProxyProtocolFeature>();
        Assert.Equal(Proxy, feature?.ProxyEndPoint);
        Assert.Equal(Front, feature?.Destination);
    }

    [Fact]
    public async Task A_v1_header_sent_one_byte_at_a_time_is_read()
    {
        var run = RunAsync(ProxyProtocolMode.V1);
        foreach (var b in ProxyHeaders.V1(Client, Front))
        {
            await SendAsync([b]);
        }

        await SendAsync("x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await _served.Task.WaitAsync(TestTimeouts.Default));
        await run;
        Assert.Equal(Client, _pipes.Connection.RemoteEndPoint);
    }

    [Fact]
    public async Task Local_keeps_the_proxy_address()
    {
        var run = RunAsync();
        await SendAsync([.. ProxyHeaders.V2(Client, Front, local: true), .. "ping"u8.ToArray()]);

        Assert.Equal("ping"u8.ToArray(), await _served.Task.WaitAsync(TestTimeouts.Default));
        await run;
        Assert.Equal(Proxy, _pipes.Connection.RemoteEndPoint);
    }

    [Fact]
    public async Task An_untrusted_peer_is_refused_before_reading()
    {
        var run = RunAsync(trusted: "10.0.0.0/8");
        await SendAsync(ProxyHeaders.V2(Client, Front));

        await AssertRefusedAsync(run, "not a trusted proxy");
        Assert.Equal(Proxy, _pipes.Connection.RemoteEndPoint);
    }

    [Fact]
    public async Task Plain_data_from_a_trusted_proxy_is_refused_at_once()
    {
        var run = RunAsync();
        await SendAsync("hello\r\n"u8.ToArray());
        await AssertRefusedAsync(run, "bad PROXY protocol header: no PROXY protocol header: the first byte is 0x68");
    }

    [Fact]
    public async Task A_truncated_header_is_refused_when_the_proxy_closes()
    {
        var run = RunAsync();
        await SendAsync(ProxyHeaders.V2(Client, Front)[..20], complete: true);
        await AssertRefusedAsync(run, "closed after 20 bytes of an incomplete PROXY header");
    }

    [Fact]
    public async Task A_connection_closed_without_a_header_is_refused()
    {
        var run = RunAsync();
        await _pipes.Client.Output.CompleteAsync();
        await AssertRefusedAsync(run, "closed before any PROXY header byte arrived");
    }

    [Fact]
    public async Task A_v2_header_announcing_over_64_KiB_is_refused_without_waiting_for_it()
    {
        var run = RunAsync();
        await SendAsync(ProxyHeaders.V2Raw(0x21, 0x11, [], lengthField: 65535));
        await AssertRefusedAsync(run, "announces 65551 bytes, over the limit of 4096");
    }

    [Fact]
    public async Task A_wrong_version_for_the_listener_is_refused()
    {
        var run = RunAsync(ProxyProtocolMode.V2);
        await SendAsync(ProxyHeaders.V1(Client, Front));
        await AssertRefusedAsync(run, "wrong signature");
    }

    [Fact]
    public async Task A_slowloris_header_is_cut_at_the_timeout_however_steadily_it_trickles()
    {
        var run = RunAsync(timeout: TimeSpan.FromMilliseconds(300));
        var header = ProxyHeaders.V1(IPEndPoint.Parse("[2001:db8::7]:51234"), IPEndPoint.Parse("[2001:db8::1]:443"));
        var trickle = Task.Run(async () =>
        {
            foreach (var b in header)
            {
                await Task.Delay(50);
                if (run.IsCompleted)
                {
                    return;
                }

                await SendAsync([b]);
            }
        });

        await AssertRefusedAsync(run, "no complete PROXY protocol header within 00:00:00.3000000");
        await trickle;
    }
}
