using EchoHost.Chat;
using EchoHost.Configuration;
using EchoHost.Connections;
using EchoHost.Hosting;
using EchoHost.Logging;
using EchoHost.Telemetry;
using EchoHost.Udp;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

return await Program.RunAsync(args);

public partial class Program
{
    /// <summary>Runs the host until SIGTERM or Ctrl+C. Exit code 0 after a clean shutdown, 1 when it cannot start.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is [HealthProbe.Flag, .. var probeArgs])
        {
            return await HealthProbe.RunAsync(probeArgs);
        }

        WebApplication? app = null;
        try
        {
            app = BuildApp(args);
            await app.StartAsync();
        }
        catch (Exception ex)
        {
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

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }

    /// <summary>The whole host: configuration → listeners → handlers → hosted services → HTTP endpoints.</summary>
    internal static WebApplication BuildApp(string[] args, Action<WebApplicationBuilder>? customize = null, string? contentRoot = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // Nothing reacts to a changed file at run time, so no file watchers.
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args],
            // appsettings.json is copied next to the binary at build and publish; load it from there wherever we start.
            ContentRootPath = contentRoot ?? AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        customize?.Invoke(builder);

        // Configuration: the EchoHost section, validated at start with one line per bad key.
        builder.Services.AddOptions<EchoHostOptions>()
            .Configure<IConfiguration>((options, configuration) => ConfigurationShape.Bind(configuration.GetSection(EchoHostOptions.SectionName), options))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EchoHostOptions>, EchoHostOptionsValidator>();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<EchoHostOptions>>((host, echo) => host.ShutdownTimeout = echo.Value.ShutdownTimeout);

        // Logging: Serilog from the Serilog section; startup failures become one line (see RunAsync).
        var startupPhase = new StartupPhase();
        builder.Services.AddSingleton(startupPhase);
        builder.AddEchoHostLogging(startupPhase);

        // Telemetry: the EchoHost meter and the OpenTelemetry SDK (started first) that exports it with Kestrel's and the
        // runtime's meters; listener readiness and health checks (Telemetry/).
        builder.Services.AddEchoHostTelemetry();

        // Listeners: every enabled TCP listener becomes a Kestrel endpoint running its protocol's handler
        // (Echo/EchoConnectionHandler, Chat/ChatConnectionHandler) behind the shared connection middleware
        // (Connections/), which counts and registers every connection.
        builder.Services.AddSingleton<ListenerRegistry>();
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ChatServer>();
        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelListenerSetup>();

        // Hosted services: lifecycle lines; the UDP listeners, which are sockets of our own rather than Kestrel
        // endpoints: every datagram checked against the listener's safety limits, then echoed (Udp/); and the
        // shutdown drain, which keeps listeners serving for ShutdownDrainDelay after /readyz turned 503.
        builder.Services.AddHostedService<LifecycleLogger>();
        builder.Services.AddHostedService<UdpEchoService>();
        builder.Services.AddHostedService<ShutdownDrain>();

        var app = builder.Build();

        // HTTP endpoints.
        app.MapGet("/", (ListenerRegistry registry) => ServiceDescription.Text(registry));
        app.MapTelemetry();         // GET /metrics (Prometheus text), GET /healthz, GET /readyz
        app.MapConnections();       // GET /connections, unless EchoHost:Http:ConnectionsEndpoint is false
        return app;
    }
}
