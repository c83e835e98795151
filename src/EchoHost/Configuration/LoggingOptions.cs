namespace EchoHost.Configuration;

/// <summary><c>EchoHost:Logging</c>: how the console log is written; levels and sinks stay in the <c>Serilog</c> section.</summary>
public sealed class LoggingOptions
{
    /// <summary><c>Text</c> (the <c>Serilog</c> section's console template) or <c>Json</c> (one object per line).</summary>
    public LogFormat Format { get; set; } = LogFormat.Text;
}

public enum LogFormat
{
    Text,
    Json,
}
