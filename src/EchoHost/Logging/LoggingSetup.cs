using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Sinks.SystemConsole.Themes;
using Serilog.Templates;

namespace EchoHost.Logging;

internal static class LoggingSetup
{
    private const string WriteTo = "Serilog:WriteTo";

    /// <summary>The key of <c>LoggingOptions.Format</c> in Configuration/, which validates it.</summary>
    private const string FormatKey = "EchoHost:Logging:Format";

    /// <summary>
    /// The console sink's colours as escape codes in the text (<see cref="AnsiConsoleTheme"/>), the default for every
    /// Console sink that names no theme. Its own default sets <see cref="Console.ForegroundColor"/>, which on Unix
    /// writes the codes to descriptor 1 at once, past the batching writer (Logging/BufferedConsoleWriter): in a
    /// terminal every colour arrived ahead of its line. Serilog uses no theme when the output is redirected.
    /// </summary>
    private const string BufferedTheme = "Serilog.Sinks.SystemConsole.Themes.AnsiConsoleTheme::Literate, Serilog.Sinks.Console";

    /// <summary>Serilog's own default console template, with the connection of a line that has one (<see cref="ConnectionEnricher"/>).</summary>
    private const string DefaultTextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}]{Connection} {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// <c>EchoHost:Logging:Format=Json</c>: one JSON object per line, a Serilog.Expressions template. <c>Exception</c>
    /// only when there is one; <c>Properties</c> holds those of the event and of its scopes. Where it differs from
    /// Serilog's own JSON is written in docs/operations.md ("Logging") and tested in Logging/JsonLogTests.
    /// </summary>
    internal const string JsonTemplate = "{ {Timestamp: @t, Level: @l, MessageTemplate: @mt, Message: @m, Exception: @x, Properties: @p} }\n";

    /// <summary>
    /// Serilog, configured by the <c>Serilog</c> section, behind Microsoft.Extensions.Logging. Serilog's levels decide
    /// what is written, so Microsoft's own filter lets everything through to it. <c>EchoHost:Logging:Format=Json</c>
    /// replaces the section's sinks with one JSON object per line on the console — timestamp, level, message
    /// template, rendered message and every property — so a container needs no file edit for structured logs. Text
    /// templates may name <c>{Connection}</c>, the connection a line belongs to (the shipped one and the default do).
    /// </summary>
    public static void AddEchoHostLogging(this WebApplicationBuilder builder, StartupPhase startupPhase)
    {
        // Read before options exist (logging comes first); a value that is neither Text nor Json fails validation.
        var json = string.Equals(builder.Configuration[FormatKey], "Json", StringComparison.OrdinalIgnoreCase);
        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(WithoutSinks(builder.Configuration))
            .Filter.With(startupPhase);
        if (json)
        {
            configuration.WriteTo.Console(new ExpressionTemplate(JsonTemplate));
        }
        else if (!builder.Configuration.GetSection(WriteTo).Exists())
        {
            configuration.Enrich.With<ConnectionEnricher>();
            configuration.WriteTo.Console(outputTemplate: DefaultTextTemplate, theme: AnsiConsoleTheme.Literate);
        }
        else
        {
            configuration.Enrich.With<ConnectionEnricher>();
            RejectSilence(builder.Configuration);
            AddConfiguredSinks(configuration, builder.Configuration);
        }

        // Serilog's provider beside the others, not Services.AddSerilog: that replaces the logger factory, and every
        // other provider (a test's log capture, a customized host's own) would then see only what Serilog's levels let
        // through, reshaped by Serilog, instead of every entry with its state and scope. Nor Logging.AddSerilog: it
        // adds a Trace rule for Serilog's provider that outranks every category rule, such as the health checks'
        // silenced error per unhealthy probe (Health/HealthSetup), which then reached the log during a shutdown drain.
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(new SerilogLoggerProvider(configuration.CreateLogger(), dispose: true));
    }

    /// <summary>The <c>Serilog</c> section without its sinks: levels, overrides and enrichers still apply.</summary>
    private static IConfiguration WithoutSinks(IConfiguration configuration) => new ConfigurationBuilder()
        .AddInMemoryCollection(configuration.GetSection("Serilog").AsEnumerable()
            .Where(e => !e.Key.StartsWith(WriteTo, StringComparison.OrdinalIgnoreCase)))
        .Build();

    /// <summary>
    /// The section's sinks, one <c>WriteTo</c> entry at a time, each required to yield a sink: Serilog skips a name it
    /// cannot find (a typo such as <c>Consol</c>, a sink whose package is not installed) without a word, and the
    /// server would go on serving with its log gone. A sink that wraps others (<c>Logger</c>'s
    /// <c>configureLogger: { WriteTo: [...] }</c>, an <c>Async</c> sink's <c>configure: [...]</c>) yields a sink even
    /// when every sink inside it is misspelled, so each nested entry is probed the same way, on a logger of its own
    /// that is disposed at once.
    /// </summary>
    private static void AddConfiguredSinks(LoggerConfiguration configuration, IConfiguration root)
    {
        var failures = new List<string>();
        foreach (var entry in root.GetSection(WriteTo).GetChildren())
        {
            ReadSink(configuration.WriteTo, root, entry, failures);
            foreach (var nested in NestedSinks(entry))
            {
                var probe = new LoggerConfiguration();
                ReadSink(probe.WriteTo, root, nested, failures);
                probe.CreateLogger().Dispose();
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(LoggerConfiguration), failures);
        }
    }

    /// <summary>
    /// One entry, read inside <see cref="LoggerSinkConfiguration.Wrap"/> next to a placeholder sink: when the
    /// placeholder comes back alone, the entry added nothing.
    /// </summary>
    private static void ReadSink(LoggerSinkConfiguration writeTo, IConfiguration root, IConfigurationSection entry, List<string> failures)
    {
        var placeholder = new Placeholder();
        writeTo.Sink(LoggerSinkConfiguration.Wrap(
            sinks =>
            {
                if (ReferenceEquals(sinks, placeholder))
                {
                    failures.Add(UnknownSink(entry));
                }

                return sinks;
            },
            capturing => capturing.Sink(placeholder).ReadFrom.Configuration(OnlySink(root, entry))));
    }

    /// <summary>
    /// The sink entries inside an entry's arguments, at any depth: the items of a list argument that name a sink
    /// (<c>configure: [{ Name: ... }]</c>) and of a <c>WriteTo</c> or <c>AuditTo</c> list in a logger argument, where
    /// the short form <c>["Console"]</c> counts too. Other lists (enrichers, filters) are no sinks.
    /// </summary>
    private static IEnumerable<IConfigurationSection> NestedSinks(IConfigurationSection entry)
    {
        foreach (var argument in entry.GetSection("Args").GetChildren())
        {
            (IConfigurationSection List, bool ShortForm)[] lists = [(argument, false), (argument.GetSection("WriteTo"), true), (argument.GetSection("AuditTo"), true)];
            foreach (var (list, shortForm) in lists)
            {
                foreach (var item in list.GetChildren().Where(i => int.TryParse(i.Key, out _)))
                {
                    if (item["Name"] is not null || (shortForm && item.Value is not null))
                    {
                        yield return item;
                        foreach (var deeper in NestedSinks(item))
                        {
                            yield return deeper;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The <c>Serilog</c> section with <c>Using</c> (where sinks are looked for) and one sink, as entry 0; a Console sink
    /// with neither a theme nor a formatter of its own (a value, or an object such as <c>{ type, template }</c>), there or
    /// inside it, gets <see cref="BufferedTheme"/>: with both, Serilog would take the theme's overload and drop the formatter.
    /// </summary>
    private static IConfiguration OnlySink(IConfiguration root, IConfigurationSection entry)
    {
        var sink = entry.Value is { } shortForm
            ? [KeyValuePair.Create($"{WriteTo}:0:Name", (string?)shortForm)]
            : entry.AsEnumerable().Select(e => KeyValuePair.Create($"{WriteTo}:0{e.Key[entry.Path.Length..]}", e.Value)).ToList();
        if (string.Equals(entry.Value ?? entry["Name"], "Console", StringComparison.OrdinalIgnoreCase)
            && !entry.GetSection("Args:theme").Exists() && !entry.GetSection("Args:formatter").Exists())
        {
            sink.Add(KeyValuePair.Create($"{WriteTo}:0:Args:theme", (string?)BufferedTheme));
        }

        // The same for a Console sink inside a wrapping sink (short-form nested entries have no Args to add to).
        foreach (var nested in NestedSinks(entry).Where(n => string.Equals(n["Name"], "Console", StringComparison.OrdinalIgnoreCase)
                     && !n.GetSection("Args:theme").Exists() && !n.GetSection("Args:formatter").Exists()))
        {
            sink.Add(KeyValuePair.Create($"{WriteTo}:0{nested.Path[entry.Path.Length..]}:Args:theme", (string?)BufferedTheme));
        }

        return new ConfigurationBuilder()
            .AddInMemoryCollection(root.GetSection("Serilog:Using").AsEnumerable().Concat(sink))
            .Build();
    }

    /// <summary>The entry's name key (<c>WriteTo:0:Name</c>, or <c>WriteTo:0</c> in the short form <c>["Console"]</c>) and what to do.</summary>
    private static string UnknownSink(IConfigurationSection entry)
    {
        var (key, name) = entry.Value is { } shortForm ? (entry.Path, shortForm) : ($"{entry.Path}:Name", entry["Name"]);
        return $"{key}: '{name}' is no sink Serilog can find, which would silence the log; use Console (the sink EchoHost ships), or set EchoHost:Logging:Format=Json";
    }

    private sealed class Placeholder : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
        }
    }

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
