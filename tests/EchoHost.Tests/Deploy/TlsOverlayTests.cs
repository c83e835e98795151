using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>The Downward API variables in the base, and the TLS overlay's Secret mount and listeners.</summary>
public sealed class TlsOverlayTests
{
    private const string Tls = "deploy/kubernetes/overlays/tls";

    [ToolTheory(Kubectl, NodeTools)]
    [InlineData(Manifests.Base)]
    [InlineData(Manifests.Production)]
    [InlineData(Tls)]
    public async Task Pods_know_their_pod_namespace_and_node_for_banners_and_get_slash(string kustomization)
    {
        var env = (await Manifests.RenderAsync(kustomization)).Container.Objects("env")
            .ToDictionary(e => e.Text("name"), e => e.Text("valueFrom", "fieldRef", "fieldPath"));

        Assert.Equal("metadata.name", env[ServiceIdentity.PodVariable]);
        Assert.Equal("metadata.namespace", env[ServiceIdentity.NamespaceVariable]);
        Assert.Equal("spec.nodeName", env[ServiceIdentity.NodeVariable]);
    }

    [ToolFact(Kubectl, NodeTools)]
    public async Task Tls_overlay_mounts_the_secret_where_the_shipped_tls_listeners_read_it_and_exposes_their_ports()
    {
        var manifests = await Manifests.RenderAsync(Tls);

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Repository.Path("appsettings.json"))
            .AddInMemoryCollection(manifests.Settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":"), (string?)s.Value)))
            .Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);
        Assert.True(TestProtocols.Validator().Validate(null, options).Succeeded);
        var tlsListeners = ListenerSet.Of(options, TestProtocols.Registry).All.Where(l => l.Tls is not null).ToList();
        Assert.Equal(["ChatTls", "EchoTls", "IrcTls"], tlsListeners.Select(l => l.Name).Order());

        var mount = Assert.Single(manifests.Container.Objects("volumeMounts"), m => m.Text("name") == "tls");
        var volume = Assert.Single(manifests.PodSpec.Objects("volumes"), v => v.Text("name") == "tls");
        Assert.Equal("echohost-tls", volume.Text("secret", "secretName"));
        Assert.All(tlsListeners, l =>
        {
            Assert.Equal($"{mount.Text("mountPath")}/tls.crt", l.Tls!.CertificatePath);
            Assert.Equal($"{mount.Text("mountPath")}/tls.key", l.Tls!.KeyPath);
        });

        var servicePorts = manifests.Service.Objects("spec", "ports").Select(p => (p.Text("name"), p.Number("port"))).ToList();
        var containerPorts = manifests.Container.Objects("ports").Select(p => (p.Text("name"), p.Number("containerPort"))).ToList();
        foreach (var port in new[] { ("echo-tls", 65442), ("chat-tls", 65443), ("irc-tls", 6697) })
        {
            Assert.Contains(port, servicePorts);
            Assert.Contains(port, containerPorts);
        }
    }
}
