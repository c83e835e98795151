using Serilog.Core;
using Serilog.Events;

namespace EchoHost.Logging;

/// <summary>
/// True once the host has started. Until then, framework errors that carry an exception (Kestrel's "Unable to
/// start", the host's "Hosting failed to start") are held back: Program prints one clear line for them instead of a
/// stack trace.
/// </summary>
internal sealed class StartupPhase : ILogEventFilter
{
    private volatile bool _started;

    public void MarkStarted() => _started = true;

    public bool IsEnabled(LogEvent logEvent) =>
        _started
        || logEvent.Exception is null
        || logEvent.Level < LogEventLevel.Error
        || !(logEvent.Properties.TryGetValue("SourceContext", out var source)
             && source.ToString().StartsWith("\"Microsoft.", StringComparison.Ordinal));
}
