using System.Text.Json.Nodes;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Tests.Infrastructure;
using Npgsql;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>
/// deploy/kubernetes/overlays/scale-out, rendered and schema-checked like the base: three replicas sharing chat
/// through PostgreSQL, the connection string from a Secret, and a trial PostgreSQL of its own.
/// </summary>
public sealed class ScaleOutOverlayTests
{
    private const string ScaleOut = "deploy/kubernetes/overlays/scale-out";

    private const string NameLabel = "app.kubernetes.io/name";

    private static string SecretValue(Manifests manifests, JsonNode secretKeyRef) =>
        manifests.Named("Secret", secretKeyRef.Text("name")).Map("stringData")[secretKeyRef.Text("key")];

    [ToolFact(Kubectl, NodeTools)]
    public async Task Runs_three_replicas_of_the_base_reading_the_connection_string_from_a_secret()
    {
        var scaleOut = await Manifests.RenderAsync(ScaleOut);
        var @base = await Manifests.RenderAsync(Manifests.Base);

        Assert.Equal(3, scaleOut.Deployment.Number("spec", "replicas"));
        Assert.DoesNotContain(scaleOut.Settings.Keys, key => key.StartsWith("EchoHost__Chat__Postgres", StringComparison.Ordinal));
        // The base's environment (the Downward API's pod, namespace and node), plus the connection string.
        var env = Assert.Single(scaleOut.Container.Objects("env"), e => e.Text("name") == "EchoHost__Chat__Postgres");
        Assert.Equal(
            @base.Container.Objects("env").Select(e => e.Text("name")).Append("EchoHost__Chat__Postgres").Order(),
            scaleOut.Container.Objects("env").Select(e => e.Text("name")).Order());
        var connectionString = SecretValue(scaleOut, env.At("valueFrom", "secretKeyRef"));

        // Otherwise the base's pod, unchanged (probes, security, resources, grace period).
        var container = scaleOut.Container.DeepClone().AsObject();
        var containerEnv = container["env"]!.AsArray();
        containerEnv.Remove(containerEnv.Single(e => e!["name"]!.GetValue<string>() == "EchoHost__Chat__Postgres"));
        Assert.True(JsonNode.DeepEquals(@base.Container, container), container.ToJsonString());

        // What the host does at start with this environment: bind and validate, as in the base's ConfigMap test.
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Repository.Path("appsettings.json"))
            .AddInMemoryCollection(scaleOut.Settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":"), (string?)s.Value)))
            .AddInMemoryCollection([KeyValuePair.Create("EchoHost:Chat:Postgres", (string?)connectionString)])
            .Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);
        var result = TestProtocols.Validator().Validate(null, options);
        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(connectionString, options.Chat().Postgres);
    }

    [ToolFact(Kubectl, NodeTools)]
    public async Task The_trial_postgres_is_a_statefulset_behind_the_service_the_connection_string_names()
    {
        var manifests = await Manifests.RenderAsync(ScaleOut);
        var connection = new NpgsqlConnectionStringBuilder(SecretValue(manifests, Assert.Single(manifests.Container.Objects("env"), e => e.Text("name") == "EchoHost__Chat__Postgres").At("valueFrom", "secretKeyRef")));

        var service = manifests.Named("Service", connection.Host!);
        var port = Assert.Single(service.Objects("spec", "ports"));
        Assert.Equal(connection.Port, port.Number("port"));
        var statefulSet = Assert.Single(manifests.Objects, o => o.Text("kind") == "StatefulSet");
        Assert.Equal(service.Text("metadata", "name"), statefulSet.Text("spec", "serviceName"));
        var podLabels = statefulSet.Map("spec", "template", "metadata", "labels");
        Assert.All(service.Map("spec", "selector"), pair => Assert.Equal(pair.Value, podLabels.GetValueOrDefault(pair.Key)));
        Assert.All(statefulSet.Map("spec", "selector", "matchLabels"), pair => Assert.Equal(pair.Value, podLabels.GetValueOrDefault(pair.Key)));

        // EchoHost's Service and PodDisruptionBudget must not take the database's pod for one of theirs.
        var echohostService = manifests.Named("Service", "echohost");
        Assert.NotEqual(echohostService.Map("spec", "selector")[NameLabel], podLabels[NameLabel]);
        Assert.NotEqual(manifests.Single("PodDisruptionBudget").Map("spec", "selector", "matchLabels")[NameLabel], podLabels[NameLabel]);

        // The database's user, database and password are those of the connection string.
        var postgres = Assert.Single(statefulSet.At("spec", "template", "spec").Objects("containers"));
        var env = postgres.Objects("env").ToDictionary(e => e.Text("name"));
        Assert.Equal(connection.Username, env["POSTGRES_USER"].Text("value"));
        Assert.Equal(connection.Database, env["POSTGRES_DB"].Text("value"));
        Assert.Equal(connection.Password, SecretValue(manifests, env["POSTGRES_PASSWORD"].At("valueFrom", "secretKeyRef")));
        Assert.True(statefulSet.At("spec", "template", "spec", "securityContext", "runAsNonRoot").GetValue<bool>());
        Assert.Single(statefulSet.Objects("spec", "volumeClaimTemplates"));
    }
}
