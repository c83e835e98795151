using EchoHost.Configuration;
using EchoHost.Health;
using EchoHost.Hosting;
using EchoHost.Logging;
using EchoHost.Pipeline;
using EchoHost.Protocols.Chat.Registration;
using EchoHost.Protocols.Echo;
using EchoHost.Protocols.Irc;
using EchoHost.Protocols.UdpEcho;
using EchoHost.Protocols.Web;
using EchoHost.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

return await Program.RunAsync(args);

public partial class Program
{
    /// <summary>
    /// Runs the host until SIGTERM or Ctrl+C. Exit code 0 after a shutdown (or --help, --version), 1 when it cannot
    /// start, 2 for an unknown option, 3 when stopping failed.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is [HealthProbe.Flag, .. var probeArgs])
        {
            return await HealthProbe.RunAsync(probeArgs, Protocols());
        }

        if (CommandLine.Answer(args, Console.Out, Console.Error) is { } answered)
        {
            return answered;
        }

        // The log goes to standard output in batches, not one write per line (Logging/BufferedConsoleWriter).
        using var console = BufferedConsoleWriter.InstallForConsole();
        WebApplication? app = null;
        var stoppedDuringStartup = false;
        try
        {
            app = BuildApp(args);
            await app.StartAsync();
        }
        catch (Exception ex) when (StartupErrors.IsStopRequest(ex, app?.Lifetime))
        {
            // Ctrl+C or SIGTERM while starting is a stop like any other: whatever had started is stopped below.
            stoppedDuringStartup = true;
        }
        catch (Exception ex)
        {
            // Whatever was logged before the failure comes first.
            console.Dispose();
            foreach (var line in StartupErrors.Describe(ex, app?.Services))
            {
                await Console.Error.WriteLineAsync(line);
            }

            if (app is not null)
            {
                await app.DisposeAsync();
            }

            return 1;
        }

        // Started, or stopped while starting (the stop request's filter needs the app's lifetime): there is an app.
        var running = app!;
        try
        {
            await running.WaitForShutdownAsync();
            if (stoppedDuringStartup)
            {
                StartupErrors.LogStoppedDuringStartup(running.Services);
            }

            await running.DisposeAsync();
            return 0;
        }
        catch (Exception ex)
        {
            // Not expected; but a stop that fails is one line and exit code 3, never an unhandled exception.
            await Console.Error.WriteLineAsync($"EchoHost: shutdown failed: {ex.GetType().Name}: {ex.Message}");
            return 3;
        }
    }

    /// <summary>The whole host: configuration → listeners → handlers → hosted services → HTTP endpoints.</summary>
    internal static WebApplication BuildApp(string[] args, Action<WebApplicationBuilder>? customize = null, string? contentRoot = null)
    {
        var serverUrls = ServerUrls.TakeOverEnvironment();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // Nothing reacts to a changed file at run time, so no file watchers.
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args],
            // appsettings.json is copied next to the binary at build and publish; load it from there wherever we start.
            ContentRootPath = contentRoot ?? AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        customize?.Invoke(builder);
        // Every endpoint comes from EchoHost's configuration: ASP.NET Core's URL settings are taken over (Hosting/).
        builder.Services.AddSingleton(serverUrls.TakeOver(builder));

        // Configuration: the EchoHost section, validated at start with one line per bad key, and the listener set
        // computed from it once (Configuration/).
        builder.Services.AddOptions<EchoHostOptions>()
            .Configure<IConfiguration, ProtocolRegistry>((options, configuration, protocols) =>
                ConfigurationShape.Bind(configuration.GetSection(EchoHostOptions.SectionName), options, configuration, protocols))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EchoHostOptions>, EchoHostOptionsValidator>();
        builder.Services.AddSingleton(sp => ListenerSet.Of(sp.GetRequiredService<IOptions<EchoHostOptions>>().Value, sp.GetRequiredService<ProtocolRegistry>()));
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<EchoHostOptions>>((host, echo) => host.ShutdownTimeout = echo.Value.ShutdownTimeout);
        // Try: a test may have given the host a clock of its own.
        builder.Services.TryAddSingleton(TimeProvider.System);

        // Logging: Serilog from the Serilog section; startup failures become one line (see RunAsync) (Logging/).
        var startupPhase = new StartupPhase();
        builder.Services.AddSingleton(startupPhase);
        builder.AddEchoHostLogging(startupPhase);

        // Telemetry: the EchoHost meter and the OpenTelemetry SDK (started first) that exports it with Kestrel's and
        // the runtime's meters, and the listeners' live counts for GET / (Telemetry/). Health: where each listener is bound, and readiness (Health/).
        builder.AddEchoHostTelemetry();
        builder.Services.AddEchoHostHealth();

        // Protocols: each is a folder of Protocols/ that adds itself to the registry with one line in AddProtocols
        // (below): its name as a listener's Protocol, its transport, options section and checks, handler, instruments.
        AddProtocols(builder.Services);

        // Listeners: every TCP listener becomes a Kestrel endpoint running the connection pipeline (Pipeline/: session,
        // limits, access log, metrics, /connections, byte counts, idle timeout, close grace) and then the handler its
        // protocol registered. A port that is taken fails with the listener's name (Hosting/ListenerBindFailures); a
        // protocol whose handler is EchoHost's own non-blocking code (echo) runs it on the socket engine's thread (Transport/).
        builder.Services.AddSingleton<ConnectionRegistry>();
        // Budgets: what one connection's transport may buffer, and the process-wide memory and descriptor budgets that
        // refuse new connections before the runtime or the kernel would fail (Hosting/ResourceBudgets).
        builder.Services.AddEchoHostBudgets();
        builder.Services.AddSingleton<EchoHost.Transport.InlineEndpoints>();
        builder.Services.AddSingleton<IConnectionListenerFactory, ListenerBindFailures>();
        builder.Services.AddSingleton<KestrelListenerSetup>();
        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(sp => sp.GetRequiredService<KestrelListenerSetup>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KestrelListenerSetup>());

        // Hosted services: lifecycle lines, and the shutdown drain, which keeps listeners serving for
        // ShutdownDrainDelay after /readyz turned 503.
        builder.Services.AddHostedService<LifecycleLogger>();
        builder.Services.AddHostedService<ShutdownDrain>();

        var app = builder.Build();

        // A Web listener's requests go to its own branch (Protocols/Web), never to the HTTP endpoint's routes (Hosting/).
        app.UseListenerApplications();

        // HTTP endpoints.
        app.MapStatusPage();        // GET / (one line of text; for a browser, the operator's page), GET /status.json (live counts)
        app.MapMetrics();           // GET /metrics (Prometheus text)
        app.MapHealth();            // GET /healthz, GET /readyz
        app.MapConnections();       // GET /connections when EchoHost:Http:ConnectionsEndpoint is true (off by default: a 404 naming the key)
        return app;
    }

    /// <summary>The protocols a listener can speak, one line each, in the order error messages list them.</summary>
    internal static IServiceCollection AddProtocols(IServiceCollection services) => services
        .AddEchoProtocol()          // RFC 862 over TCP (Protocols/Echo)
        .AddChatProtocol()          // rooms every chat listener shares, across instances with EchoHost:Chat:Postgres (Protocols/Chat)
        .AddIrcProtocol()           // IRC clients in the same chat rooms as line users (Protocols/Irc)
        .AddWebProtocol()           // browsers: the chat page, WebSocket echo, chat and IRC, HTTP echo (Protocols/Web)
        .AddUdpEchoProtocol();      // RFC 862 over UDP on sockets of its own, every datagram checked first (Protocols/UdpEcho)

    /// <summary>The registry of <see cref="AddProtocols"/>, for what reads the configuration without a host (the health probe).</summary>
    internal static ProtocolRegistry Protocols()
    {
        using var services = AddProtocols(new ServiceCollection()).BuildServiceProvider();
        return services.GetRequiredService<ProtocolRegistry>();
    }
}
