using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Configuration;
using EchoHost.Protocols.Echo;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Echo;

/// <summary>"Who answered": banner placeholders and <c>GET /</c>. Not parallel: it sets the Downward API variables.</summary>
[Collection(nameof(BannerTests))]
[CollectionDefinition(nameof(BannerTests), DisableParallelization = true)]
public sealed class BannerTests
{
    private static readonly IPEndPoint Local = IPEndPoint.Parse("10.1.2.3:65432");
    private static readonly IPEndPoint Remote = IPEndPoint.Parse("203.0.113.7:51234");

    private static string Render(string banner, EndPoint? local = null, EndPoint? remote = null) =>
        Encoding.UTF8.GetString(BannerTemplate.Parse(banner, "EchoOne").Render(local ?? Local, remote ?? Remote));

    [Fact]
    public void Every_placeholder_is_filled_and_other_braces_are_text()
    {
        WithKubernetesEnvironment(() =>
        {
            var line = Render("{host} {listener} {local} {remote} {pod} {namespace} {node} { not one } {}");
            Assert.Equal($"{Environment.MachineName} EchoOne 10.1.2.3:65432 203.0.113.7:51234 echohost-7d9 demo node-a {{ not one }} {{}}\r\n", line);
        });
    }

    [Fact]
    public void Unset_kubernetes_variables_read_as_a_dash()
    {
        Assert.Equal("pod - in - on -\r\n", Render("pod {pod} in {namespace} on {node}"));
    }

    [Fact]
    public void Ipv4_clients_of_a_dual_stack_socket_are_shown_as_ipv4()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("203.0.113.7").MapToIPv6(), 51234);
        Assert.Equal("203.0.113.7:51234\r\n", Render("{remote}", remote: mapped));
    }

    [Fact]
    public void A_banner_without_per_connection_placeholders_is_built_once()
    {
        Assert.True(BannerTemplate.Parse("hello {host} {pod}", "E").IsStatic);
        Assert.False(BannerTemplate.Parse("hello {remote}", "E").IsStatic);
    }

    [Theory]
    [InlineData("{Host}", "Host")]
    [InlineData("hi {pod} {ip}", "ip")]
    [InlineData("{remote_addr}", "remote_addr")]
    public void Unknown_placeholders_are_found_for_the_start_up_error(string banner, string unknown) =>
        Assert.Equal(unknown, BannerPlaceholders.FindUnknown(banner));

    [Fact]
    public async Task A_client_reads_who_answered_and_get_slash_says_the_same()
    {
        await WithKubernetesEnvironmentAsync(async () =>
        {
            await using var host = await TestHost.StartAsync(new Dictionary<string, string?>
            {
                ["EchoHost:Listeners:Echo:Banner"] = "{listener} on {pod}/{namespace}/{node} ({host}) at {local} for {remote}",
            });
            using var socket = await SocketExtensions.ConnectAsync(host.EndPoint());
            var expected = $"Echo on echohost-7d9/demo/node-a ({Environment.MachineName}) at {host.EndPoint()} for {socket.LocalEndPoint}\r\n";

            Assert.Equal(expected, Encoding.UTF8.GetString(await socket.ReceiveExactlyAsync(Encoding.UTF8.GetByteCount(expected))));
            await socket.AssertEchoesAsync();
            using var http = host.CreateHttpClient();
            Assert.StartsWith($"EchoHost on {Environment.MachineName} (pod echohost-7d9, namespace demo, node node-a): Echo (echo) on ",
                await http.GetStringAsync("/"));
        });
    }

    private static void WithKubernetesEnvironment(Action test) => WithKubernetesEnvironmentAsync(() =>
    {
        test();
        return Task.CompletedTask;
    }).GetAwaiter().GetResult();

    private static async Task WithKubernetesEnvironmentAsync(Func<Task> test)
    {
        Environment.SetEnvironmentVariable(ServiceIdentity.PodVariable, "echohost-7d9");
        Environment.SetEnvironmentVariable(ServiceIdentity.NamespaceVariable, "demo");
        Environment.SetEnvironmentVariable(ServiceIdentity.NodeVariable, "node-a");
        try
        {
            await test();
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServiceIdentity.PodVariable, null);
            Environment.SetEnvironmentVariable(ServiceIdentity.NamespaceVariable, null);
            Environment.SetEnvironmentVariable(ServiceIdentity.NodeVariable, null);
        }
    }
}
