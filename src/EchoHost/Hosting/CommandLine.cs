using System.Reflection;
using EchoHost.Health;

namespace EchoHost.Hosting;

/// <summary>
/// The options EchoHost itself answers — <c>--help</c>, <c>--version</c>, and one clear line for an option it does
/// not know — before anything is configured or bound. Every other argument is a configuration key
/// (<c>--EchoHost:Listeners:Echo:Port=7007</c>).
/// </summary>
internal static class CommandLine
{
    public const int UsageError = 2;

    private static readonly string[] HelpFlags = ["--help", "-h", "-?"];
    private const string VersionFlag = "--version";

    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>The exit code when the arguments ask for something other than running the server; null to run it.</summary>
    public static int? Answer(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Any(a => HelpFlags.Contains(a, StringComparer.Ordinal)))
        {
            output.Write(Usage);
            return 0;
        }

        if (args is [VersionFlag])
        {
            output.WriteLine($"EchoHost {Version}");
            return 0;
        }

        if (args.FirstOrDefault(IsUnknownOption) is { } unknown)
        {
            error.WriteLine(unknown.StartsWith("--urls", StringComparison.OrdinalIgnoreCase)
                ? "EchoHost: --urls is not used; the HTTP endpoint is EchoHost:Http:Port (and EchoHost:Http:Address), e.g. --EchoHost:Http:Port=9090"
                : $"EchoHost: unknown option '{unknown}'; configuration keys are written --Section:Key=value, such as --EchoHost:Address=*; --help lists the options");
            return UsageError;
        }

        return null;
    }

    /// <summary>An option, not a configuration key: keys always name a section (they contain ':').</summary>
    private static bool IsUnknownOption(string arg) =>
        arg.StartsWith('-') && !arg.Split('=', 2)[0].Contains(':', StringComparison.Ordinal) && arg != HealthProbe.Flag;

    private const string Usage = """
        EchoHost: a TCP and UDP echo and chat server, with Prometheus metrics and health checks.

        Usage:
          EchoHost                         run with appsettings.json (next to the binary) and the environment
          EchoHost --Section:Key=value ... run, overriding configuration keys, e.g. --EchoHost:Listeners:Echo:Port=7007
          EchoHost --health                ask a running EchoHost's /readyz; exit 0 when it is ready (container health checks)
          EchoHost --version               print the version
          EchoHost --help                  print this

        Default ports: echo 65432/tcp, chat 65433/tcp, UDP echo 65400/udp, HTTP (/metrics, /healthz, /readyz) 8080.
        Configuration: appsettings.json beside the binary; environment variables override it, with __ for ':', e.g.
          EchoHost__Address='*'   EchoHost__Listeners__Echo__Port=7007   Serilog__MinimumLevel__Default=Debug
        Stop with SIGTERM or Ctrl+C. Exit codes: 0 stopped, 1 cannot start, 2 bad option, 3 stopping failed.
        Documentation: README.md in the repository.

        """;
}
