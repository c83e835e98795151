using System.Diagnostics;
using EchoHost.Harness;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// Programs outside .NET that some tests run. A test that needs one uses <see cref="ToolFactAttribute"/>: when the
/// program is missing the test is skipped, and the reason says how to install it. CI installs them all (.ci/run) and,
/// with CI=true, fails on any skip.
/// </summary>
internal static class ExternalTools
{
    public const string Kubectl = "kubectl";

    public const string Promtool = "promtool";

    /// <summary>The Prometheus server itself, from the same Debian package as promtool.</summary>
    public const string PrometheusServer = "prometheus";

    /// <summary>HAProxy, in front of EchoHost for the PROXY protocol tests.</summary>
    public const string Haproxy = "haproxy";

    /// <summary>The OpenSSL command line (<c>s_client</c>, <c>req</c>), for the TLS tests.</summary>
    public const string Openssl = "openssl";

    /// <summary>Nmap's ncat, whose <c>--ssl</c> is the TLS client docs/tls-and-proxy.md shows.</summary>
    public const string Ncat = "ncat";

    /// <summary>Node.js with the packages of .ci/node installed (kubernetes-models, yaml, dockerfile-utils).</summary>
    public const string NodeTools = "node-tools";

    /// <summary>Debian's netcat-openbsd, the nc the README's commands are written for (-q, -N, -u -w).</summary>
    public const string Netcat = "netcat-openbsd";

    public const string Telnet = "telnet";

    public const string Curl = "curl";

    /// <summary>util-linux's script, which runs a program on a pseudo-terminal (what a user's terminal looks like to it).</summary>
    public const string Script = "script";

    /// <summary>Python 3, which runs the socket tutorials' clients (docs/tutorials).</summary>
    public const string Python3 = "python3";

    /// <summary>irssi, a real IRC client, driven through tmux by the IRC client tests.</summary>
    public const string Irssi = "irssi";

    /// <summary>tmux, the terminal irssi runs in for the IRC client tests (send-keys is the user typing).</summary>
    public const string Tmux = "tmux";

    /// <summary>WeeChat without a terminal, driven through its FIFO (from weechat-plugins) by the IRC client tests.</summary>
    public const string WeeChat = "weechat-headless";

    /// <summary>InspIRCd, the IRC server the client drivers are checked against (and the benchmark's chat anchor).</summary>
    public const string InspIrcd = "inspircd";

    /// <summary>Why the first missing tool of <paramref name="tools"/> is missing, with its install command; null when all are there.</summary>
    public static string? WhyMissing(IEnumerable<string> tools) => tools.Select(WhyMissing).FirstOrDefault(reason => reason is not null);

    private static string? WhyMissing(string tool) => tool switch
    {
        Kubectl when Find("kubectl") is null =>
            "kubectl is not on PATH; install kubectl 1.27 or later (its built-in kustomize v5 reads deploy/kubernetes; Debian's kubernetes-client 1.20 is too old)",
        Promtool when Find("promtool") is null =>
            "promtool is not on PATH; install it: apt-get install prometheus",
        PrometheusServer when Find("prometheus") is null =>
            "prometheus is not on PATH; install it: apt-get install prometheus",
        NodeTools when Find("node") is null || Find("npm") is null =>
            "node or npm is not on PATH; install them: apt-get install nodejs npm (the test build then installs .ci/node's packages)",
        NodeTools when !NodePackagesInstalled() =>
            "the packages of .ci/node are not installed (the test build's npm ci failed?); install them: npm ci --prefix .ci/node",
        Netcat when Find("nc") is null || !IsOpenBsdNetcat() =>
            "OpenBSD netcat is not the nc on PATH; install it: apt-get install netcat-openbsd",
        Telnet when Find("telnet") is null =>
            "telnet is not on PATH; install it: apt-get install telnet",
        Curl when Find("curl") is null =>
            "curl is not on PATH; install it: apt-get install curl",
        Script when Find("script") is null =>
            "script is not on PATH; install it: apt-get install bsdutils",
        Python3 when Find("python3") is null =>
            "python3 is not on PATH; install it: apt-get install python3",
        Haproxy or Openssl or Ncat or Irssi or Tmux when Find(tool) is null =>
            $"{tool} is not on PATH; install it: apt-get install {tool}",
        WeeChat when Find(tool) is null || !WeeChatFifoPluginInstalled() =>
            "weechat-headless or its FIFO plugin is missing; install them: apt-get install weechat-headless weechat-plugins",
        InspIrcd when EchoHost.Load.Benchmark.InspIrcd.Find(null) is null =>
            "inspircd is not on PATH or in /usr/sbin; install it: apt-get install inspircd",
        Kubectl or Promtool or PrometheusServer or NodeTools or Netcat or Telnet or Curl or Script or Haproxy or Openssl or Ncat or Python3
            or Irssi or Tmux or WeeChat or InspIrcd => null,
        _ => throw new ArgumentException($"Unknown tool '{tool}'.", nameof(tool)),
    };

    /// <summary>
    /// .ci/node's packages as the test build (EchoHost.Tests.csproj) and .ci/run leave them: installed from the
    /// current package-lock.json, which they copy into node_modules once npm ci succeeded.
    /// </summary>
    private static bool NodePackagesInstalled()
    {
        var stamp = Repository.Path(".ci/node/node_modules/.installed-package-lock.json");
        return File.Exists(stamp) && File.ReadAllText(stamp) == File.ReadAllText(Repository.Path(".ci/node/package-lock.json"));
    }

    /// <summary>Debian ships WeeChat's FIFO plugin apart from the client, in weechat-plugins (/usr/lib/&lt;arch&gt;/weechat/plugins).</summary>
    private static bool WeeChatFifoPluginInstalled() =>
        Directory.GetDirectories("/usr/lib").Append("/usr/lib").Any(lib => File.Exists(Path.Combine(lib, "weechat", "plugins", "fifo.so")));

    /// <summary>Other netcats (nmap's ncat, GNU netcat) take other options; OpenBSD's names itself in its usage text.</summary>
    private static bool IsOpenBsdNetcat()
    {
        var info = new ProcessStartInfo("nc", "-h") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var usage = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (output + usage.Result).Contains("OpenBSD netcat", StringComparison.Ordinal);
    }

    /// <summary>The full path of an executable on PATH, or null.</summary>
    public static string? Find(string program) => ProcessRunner.Find(program);

    /// <summary>
    /// Runs a program to completion in the repository root, feeding it <paramref name="standardInput"/>. The
    /// <paramref name="timeout"/> (by default <see cref="TestTimeouts.Process"/>) only stops a hung program: a run that
    /// is long by design, such as the whole benchmark, passes a longer one.
    /// </summary>
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, timeout ?? TestTimeouts.Process, standardInput, Repository.Root);
        return new ToolResult(result.CommandLine, result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>Runs one of the scripts in .ci/node with node.</summary>
    public static Task<ToolResult> RunNodeScriptAsync(string script, string standardInput) =>
        RunAsync("node", [Repository.Path($".ci/node/{script}")], standardInput);

    /// <summary>A one-document YAML file of the repository as JSON, read by .ci/node's YAML parser.</summary>
    public static async Task<System.Text.Json.Nodes.JsonNode> ReadYamlAsync(string relativePath)
    {
        var json = (await RunNodeScriptAsync("yaml-to-json.mjs", await File.ReadAllTextAsync(Repository.Path(relativePath)))).EnsureSuccess();
        return Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsArray())!;
    }
}

internal sealed record ToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Standard output, after failing the test with everything the program said if it did not exit 0.</summary>
    public string EnsureSuccess()
    {
        Assert.True(ExitCode == 0, $"{CommandLine} exited {ExitCode}\nstderr:\n{StandardError}\nstdout:\n{StandardOutput}");
        return StandardOutput;
    }
}

/// <summary>A fact that runs only where <see cref="ExternalTools"/> finds every named tool, and is skipped with the install command otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools) => Skip = ExternalTools.WhyMissing(tools);
}

/// <summary>The <see cref="TheoryAttribute"/> form of <see cref="ToolFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(params string[] tools) => Skip = ExternalTools.WhyMissing(tools);
}
