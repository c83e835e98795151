using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Extensions.Logging;

namespace EchoHost.Logging;

internal static class LoggingSetup
{
    private const string WriteTo = "Serilog:WriteTo";

    /// <summary>The key of <c>LoggingOptions.Format</c> in Configuration/, which validates it.</summary>
    private const string FormatKey = "EchoHost:Logging:Format";

    /// <summary>
    /// Serilog, configured by the <c>Serilog</c> section, behind Microsoft.Extensions.Logging. Serilog's levels decide
    /// what is written, so Microsoft's own filter lets everything through to it. <c>EchoHost:Logging:Format=Json</c>
    /// replaces the section's sinks with one JSON object per line on the console — timestamp, level, message
    /// template, rendered message and every property — so a container needs no file edit for structured logs.
    /// </summary>
    public static void AddEchoHostLogging(this WebApplicationBuilder builder, StartupPhase startupPhase)
    {
        // Read before options exist (logging comes first); a value that is neither Text nor Json fails validation.
        var json = string.Equals(builder.Configuration[FormatKey], "Json", StringComparison.OrdinalIgnoreCase);
        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(json ? WithoutSinks(builder.Configuration) : builder.Configuration)
            .Filter.With(startupPhase);
        if (json)
        {
            configuration.WriteTo.Console(new JsonLineFormatter());
        }
        else if (!builder.Configuration.GetSection(WriteTo).Exists())
        {
            configuration.WriteTo.Console();
        }
        else
        {
            RejectSilence(builder.Configuration);
        }

        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(new SerilogLoggerProvider(configuration.CreateLogger(), dispose: true));
    }

    /// <summary>The <c>Serilog</c> section without its sinks: levels, overrides and enrichers still apply.</summary>
    private static IConfiguration WithoutSinks(IConfiguration configuration) => new ConfigurationBuilder()
        .AddInMemoryCollection(configuration.GetSection("Serilog").AsEnumerable()
            .Where(e => !e.Key.StartsWith(WriteTo, StringComparison.OrdinalIgnoreCase)))
        .Build();

    /// <summary>A blank console template writes nothing at all while the server keeps serving: refuse it at start.</summary>
    private static void RejectSilence(IConfiguration configuration)
    {
        var silent = configuration.GetSection(WriteTo).GetChildren()
            .Select(sink => sink.GetSection("Args:outputTemplate"))
            .Where(template => template.Value is not null && string.IsNullOrWhiteSpace(template.Value))
            .Select(template => $"{template.Path}: empty, which would silence the log; remove it for the default template, or set EchoHost:Logging:Format=Json")
            .ToList();
        if (silent.Count > 0)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(LoggerConfiguration), silent);
        }
    }
}
