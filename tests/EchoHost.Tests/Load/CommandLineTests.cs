using EchoHost.Configuration;
using EchoHost.Load;
using EchoHost.Tests.Infrastructure;
namespace EchoHost.Tests.Load;

public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_documents_every_mode_and_option_and_exits_0()
    {
        var run = await LoadClientRun.RunAsync("--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var word in new[] { "pingpong", "stream", "churn", "hold", "udp", "chat", "benchmark", "--target", "--connections", "--size", "--duration", "--count", "--rate", "--warmup", "--sources", "--timeout", "--allow-loss", "--dialect", "--room", "--tls", "--tls-verify", "--json", "--progress", "--rounds", "--first-warmup", "--quick", "--only", "--hold", "ws://", "wss://", "ws-echo", "ws-chat", "pingpong1,", "socket floor", "Fairness", "Exit code", "Examples" })
        {
            Assert.Contains(word, run.Output);
        }

        Assert.Equal(run.Output, (await LoadClientRun.RunAsync("chat", "--help")).Output);
    }

    [Theory]
    [InlineData(new string[0], 1)]
    [InlineData(new[] { "--sources", "127.0.0.2-127.0.0.4" }, 3)]
    [InlineData(new[] { "--connections", "64" }, 1)]
    public void Udp_is_paced_by_default_under_EchoHosts_default_limit_per_source(string[] options, int sources)
    {
        var parsed = LoadOptionsParser.Parse(LoadMode.Udp, options);

        // Unpaced, the default 16 sockets from one address outran EchoHost's default limit and failed on its drops.
        Assert.True(parsed.Rate > 0);
        Assert.True(parsed.Rate / sources < ListenerOptions.DefaultPerSourceDatagramsPerSecond, $"{parsed.Rate}/s from {sources} sources");
        Assert.Equal(2500, LoadOptionsParser.Parse(LoadMode.Udp, ["--rate", "2500"]).Rate);
    }

    [Theory]
    [InlineData(new[] { "gopher" }, "unknown mode 'gopher'")]
    [InlineData(new[] { "pingpong", "--conections", "4" }, "unknown option '--conections'")]
    [InlineData(new[] { "pingpong", "--connections", "0" }, "--connections: '0' is not a whole number from 1")]
    [InlineData(new[] { "pingpong", "--target", "localhost" }, "--target: 'localhost' is not host:port")]
    [InlineData(new[] { "pingpong", "--duration", "soon" }, "--duration: 'soon' is not a duration")]
    [InlineData(new[] { "pingpong", "--size" }, "--size needs a value")]
    [InlineData(new[] { "udp", "--size", "4" }, "--size: '4' is not a whole number from 8 to 65507")]
    [InlineData(new[] { "hold", "--sources", "127.0.0.9-127.0.0.2" }, "--sources: '127.0.0.9-127.0.0.2' is not an ascending range")]
    [InlineData(new[] { "chat", "--dialect", "xmpp" }, "--dialect: 'xmpp' is not echohost or irc")]
    [InlineData(new[] { "pingpong", "--dialect", "irc" }, "--dialect and --room apply to chat only")]
    [InlineData(new[] { "pingpong", "--target", "127.0.0.1:7,127.0.0.1:8" }, "--target: several targets (a,b) apply to chat only")]
    [InlineData(new[] { "chat", "--target", "127.0.0.1:7,nowhere" }, "--target: 'nowhere' is not host:port")]
    [InlineData(new[] { "udp", "--tls" }, "--tls applies to the TCP modes only")]
    [InlineData(new[] { "hold", "--target", "ws://127.0.0.1:8081/ws/echo" }, "ws:// and wss:// apply to pingpong and chat only, not hold")]
    [InlineData(new[] { "pingpong", "--tls", "--target", "ws://127.0.0.1:8081/ws/echo" }, "write wss:// for TLS")]
    [InlineData(new[] { "pingpong", "--target", "ws://127.0.0.1:8081/ws/echo#top" }, "is not a WebSocket URL")]
    [InlineData(new[] { "benchmark", "--rounds", "zero" }, "--rounds: 'zero' is not a whole number")]
    [InlineData(new[] { "benchmark", "--only", "pingpong64,ftp" }, "--only: unknown row 'ftp'")]
    [InlineData(new[] { "benchmark", "--first-warmup", "soon" }, "--first-warmup: 'soon' is not a duration")]
    [InlineData(new[] { "benchmark", "--duration", "soon" }, "--duration: 'soon' is not a duration")]
    public async Task A_bad_argument_is_one_line_and_exit_code_2(string[] args, string message)
    {
        var run = await LoadClientRun.RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Output);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("echohost-load: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task No_arguments_prints_the_usage_and_exits_2()
    {
        var run = await LoadClientRun.RunAsync();
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Usage:", run.Output);
    }
}
