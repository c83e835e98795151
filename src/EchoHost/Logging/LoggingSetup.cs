using Serilog;
using Serilog.Extensions.Logging;

namespace EchoHost.Logging;

internal static class LoggingSetup
{
    /// <summary>
    /// Serilog, configured by the <c>Serilog</c> section, behind Microsoft.Extensions.Logging. Serilog's levels decide
    /// what is written, so Microsoft's own filter lets everything through to it.
    /// </summary>
    public static void AddEchoHostLogging(this WebApplicationBuilder builder, StartupPhase startupPhase)
    {
        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Filter.With(startupPhase);
        if (!builder.Configuration.GetSection("Serilog:WriteTo").Exists())
        {
            configuration.WriteTo.Console();
        }

        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(new SerilogLoggerProvider(configuration.CreateLogger(), dispose: true));
    }
}
