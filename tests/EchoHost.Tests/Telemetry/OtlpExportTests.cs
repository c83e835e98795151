using System.Collections.Concurrent;
using System.Net;
using System.Text;
using EchoHost.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace EchoHost.Tests.Telemetry;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_an_endpoint_the_same_metrics_are_pushed_to_the_collector()
    {
        await using var collector = await FakeCollector.StartAsync();
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Otlp:Endpoint"] = collector.BaseAddress,
            ["EchoHost:Otlp:Protocol"] = "HttpProtobuf",
            ["EchoHost:Otlp:ExportInterval"] = "00:00:01",
        });
        using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
        await socket.AssertEchoesAsync();

        // Protobuf keeps strings as UTF-8: the instrument and attribute names are readable in the body.
        var export = await collector.WaitForAsync(body => body.Contains("echohost.io.received") && body.Contains("echohost.listener"));

        Assert.Equal("/v1/metrics", export.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
        Assert.Contains("echohost", export.Body);
    }

    [Fact]
    public async Task Stopping_the_host_pushes_a_last_export()
    {
        await using var collector = await FakeCollector.StartAsync();
        var host = await TestHost.StartAsync(new Dictionary<string, string?>
        {
            ["EchoHost:Otlp:Endpoint"] = collector.BaseAddress,
            ["EchoHost:Otlp:Protocol"] = "HttpProtobuf",
            // Far beyond the test: only the flush on shutdown can deliver the export.
            ["EchoHost:Otlp:ExportInterval"] = "01:00:00",
        });
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync();
        }

        await host.DisposeAsync();

        var export = await collector.WaitForAsync(body => body.Contains("echohost.io.received"));
        Assert.Equal("/v1/metrics", export.Path);
    }

    /// <summary>
    /// With no endpoint configured there is no OTLP exporter at all: nothing dials the SDK's default collector
    /// addresses (gRPC 4317, HTTP 4318), not even the last export when the host stops, and no log is exported.
    /// </summary>
    [Fact]
    public async Task Without_an_endpoint_nothing_dials_the_default_collector_addresses_and_no_log_is_exported()
    {
        Assert.All(new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" }, v => Assert.Null(Environment.GetEnvironmentVariable(v)));
        using var grpc = ListenOnDefault(4317);
        using var http = ListenOnDefault(4318);
        var host = await TestHost.StartAsync();
        Assert.DoesNotContain(host.Services.GetServices<ILoggerProvider>(), p => p.GetType().FullName!.StartsWith("OpenTelemetry", StringComparison.Ordinal));
        using (var socket = await SocketExtensions.ConnectAsync(host.EndPoint()))
        {
            await socket.AssertEchoesAsync();
        }

        // Stopping flushes every exporter there is, synchronously: a connection attempt would be queued by now.
        await host.DisposeAsync();

        Assert.False(grpc.Pending(), "something dialled 127.0.0.1:4317");
        Assert.False(http.Pending(), "something dialled 127.0.0.1:4318");
    }

    private static System.Net.Sockets.TcpListener ListenOnDefault(int port)
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return listener;
    }

    [Fact]
    public async Task The_standard_opentelemetry_variables_alone_enable_and_shape_the_export()
    {
        // A process of its own: the variables are process-wide, and other tests' hosts must not see them.
        await using var collector = await FakeCollector.StartAsync();
        await using var process = HostProcess.Start(
            HostProcess.LoopbackPortZero,
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                ["OTEL_SERVICE_NAME"] = "edge-echo",
                ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=campaign,team=network",
            });
        await process.ListenerPortAsync("Echo");

        // Several exports within the hang guard prove OTEL_METRIC_EXPORT_INTERVAL: at the SDK's default of 60 s the
        // third would come at 180 s, after the guard (TestTimeouts.Process) has failed the test.
        var exports = await collector.WaitForAsync(body => body.Contains("echohost.connections.active"), count: 3);

        var export = exports[0];
        Assert.Equal("/v1/metrics", export.Path);
        Assert.Contains("edge-echo", export.Body);
        Assert.Contains("deployment.environment", export.Body);
        Assert.Contains("campaign", export.Body);
        Assert.Contains("team", export.Body);
    }

    private sealed record Export(string Path, string? ContentType, string Body);

    /// <summary>An OTLP/HTTP receiver on a free loopback port that keeps every request.</summary>
    private sealed class FakeCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Export> _exports = new();
        private event Action? Received;

        private FakeCollector(WebApplication app) => _app = app;

        public string BaseAddress => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        public static async Task<FakeCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var collector = new FakeCollector(app);
            app.MapPost("/v1/metrics", async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                collector._exports.Enqueue(new Export(request.Path, request.ContentType, Encoding.UTF8.GetString(body.ToArray())));
                collector.Received?.Invoke();
                return Results.Ok();
            });
            await app.StartAsync(TestTimeouts.Token());
            return collector;
        }

        public async Task<Export> WaitForAsync(Func<string, bool> match) => (await WaitForAsync(match, count: 1))[0];

        /// <summary>The first <paramref name="count"/> exports whose body matches, once that many have arrived.</summary>
        public async Task<Export[]> WaitForAsync(Func<string, bool> match, int count)
        {
            var found = new TaskCompletionSource<Export[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            void Check()
            {
                var matching = _exports.Where(e => match(e.Body)).Take(count).ToArray();
                if (matching.Length == count)
                {
                    found.TrySetResult(matching);
                }
            }

            Received += Check;
            try
            {
                Check();
                return await found.Task.WaitAsync(TestTimeouts.Process);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{_exports.Count(e => match(e.Body))} matching export(s) of the {count} expected arrived within {TestTimeouts.Process}.");
            }
            finally
            {
                Received -= Check;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync(TestTimeouts.Token());
            await _app.DisposeAsync();
        }
    }
}
