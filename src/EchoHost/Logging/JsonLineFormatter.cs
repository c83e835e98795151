using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;

namespace EchoHost.Logging;

/// <summary>
/// One JSON object per line: <c>Timestamp</c>, <c>Level</c>, <c>MessageTemplate</c>, <c>Message</c> (rendered as the
/// text console shows it, strings unquoted), <c>Exception</c> when there is one, and every property — those of the
/// event and of its scopes (<c>ConnectionId</c>, <c>Listener</c>, <c>RemoteEndPoint</c>).
/// </summary>
internal sealed class JsonLineFormatter : ITextFormatter
{
    private static readonly MessageTemplateTextFormatter Message = new("{Message:lj}");
    private readonly JsonValueFormatter _values = new(typeTagName: null);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"Timestamp\":\"");
        output.Write(logEvent.Timestamp.ToString("O"));
        output.Write("\",\"Level\":\"");
        output.Write(logEvent.Level);
        output.Write("\",\"MessageTemplate\":");
        JsonValueFormatter.WriteQuotedJsonString(logEvent.MessageTemplate.Text, output);
        output.Write(",\"Message\":");
        using (var rendered = new StringWriter())
        {
            Message.Format(logEvent, rendered);
            JsonValueFormatter.WriteQuotedJsonString(rendered.ToString(), output);
        }

        if (logEvent.Exception is not null)
        {
            output.Write(",\"Exception\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }

        output.Write(",\"Properties\":{");
        var first = true;
        foreach (var (name, value) in logEvent.Properties)
        {
            output.Write(first ? "" : ",");
            first = false;
            JsonValueFormatter.WriteQuotedJsonString(name, output);
            output.Write(':');
            _values.Format(value, output);
        }

        output.WriteLine("}}");
    }
}
