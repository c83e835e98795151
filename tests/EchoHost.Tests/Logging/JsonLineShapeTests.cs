using EchoHost.Logging;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;
using Serilog.Templates;

namespace EchoHost.Tests.Logging;

/// <summary>
/// The JSON line's exact bytes (docs/operations.md, "Logging"), from the Serilog.Expressions template
/// <see cref="LoggingSetup.JsonTemplate"/>, and the two places where it differs from the formatter it replaced.
/// </summary>
public sealed class JsonLineShapeTests
{
    private static readonly DateTimeOffset At = new DateTimeOffset(2026, 11, 22, 2, 19, 49, TimeSpan.Zero).AddTicks(3915977);

    [Fact]
    public void The_documented_line_byte_for_byte()
    {
        var line = Format(Event(
            "{Listener} connection {ConnectionId} from {RemoteEndPoint} closed ({Reason}) after {DurationSeconds:0.000}s, {BytesIn} bytes in, {BytesOut} bytes out",
            null,
            ("Listener", new ScalarValue("Echo")),
            ("ConnectionId", new ScalarValue("0HNQ87SAQEHCN")),
            ("RemoteEndPoint", new ScalarValue("127.0.0.1:39860")),
            ("Reason", new ScalarValue("closed by client")),
            ("DurationSeconds", new ScalarValue(0.0324795)),
            ("BytesIn", new ScalarValue(6L)),
            ("BytesOut", new ScalarValue(6L)),
            ("EventId", new StructureValue([new LogEventProperty("Id", new ScalarValue(550985697)), new LogEventProperty("Name", new ScalarValue("LogClosed"))])),
            ("SourceContext", new ScalarValue("EchoHost.Echo"))));

        Assert.Equal(
            """{"Timestamp":"2026-11-22T02:19:49.3915977+00:00","Level":"Information","MessageTemplate":"{Listener} connection {ConnectionId} from {RemoteEndPoint} closed ({Reason}) after {DurationSeconds:0.000}s, {BytesIn} bytes in, {BytesOut} bytes out","Message":"Echo connection 0HNQ87SAQEHCN from 127.0.0.1:39860 closed (closed by client) after 0.032s, 6 bytes in, 6 bytes out","Properties":{"Listener":"Echo","ConnectionId":"0HNQ87SAQEHCN","RemoteEndPoint":"127.0.0.1:39860","Reason":"closed by client","DurationSeconds":0.0324795,"BytesIn":6,"BytesOut":6,"EventId":{"Id":550985697,"Name":"LogClosed"},"SourceContext":"EchoHost.Echo"}}""" + "\n",
            line);
    }

    [Fact]
    public void An_exception_is_its_text_after_the_message_and_absent_without_one()
    {
        var failed = Format(Event("failed", new InvalidOperationException("boom")));
        Assert.Equal(
            """{"Timestamp":"2026-11-22T02:19:49.3915977+00:00","Level":"Information","MessageTemplate":"failed","Message":"failed","Exception":"System.InvalidOperationException: boom","Properties":{}}""" + "\n",
            failed);
        Assert.DoesNotContain("Exception", Format(Event("fine", null)));
    }

    /// <summary>
    /// Difference one: <c>Message</c> renders a bool or an enum as .NET writes it (<c>True</c>, <c>Tls</c>), where
    /// the old formatter (and the text console's <c>{Message:lj}</c>) wrote JSON (<c>true</c>, <c>"Tls"</c>).
    /// The property itself is unchanged.
    /// </summary>
    [Fact]
    public void A_bool_or_an_enum_in_message_is_rendered_as_dotnet_writes_it()
    {
        var logEvent = Event("enabled {Enabled} mode {Mode}", null, ("Enabled", new ScalarValue(true)), ("Mode", new ScalarValue(DayOfWeek.Monday)));

        var line = Format(logEvent);

        Assert.Contains("\"Message\":\"enabled True mode Monday\"", line, StringComparison.Ordinal);
        Assert.Contains("\"Properties\":{\"Enabled\":true,\"Mode\":\"Monday\"}", line, StringComparison.Ordinal);
        Assert.Equal("enabled true mode \"Monday\"", TextConsole(logEvent));
    }

    /// <summary>Difference two: a destructured object keeps its type, as a last <c>$type</c> member, which the old formatter left out of <c>Properties</c>.</summary>
    [Fact]
    public void A_destructured_object_carries_its_type()
    {
        var line = Format(Event("at {@Point}", null, ("Point", new StructureValue([new LogEventProperty("X", new ScalarValue(1))], "Point"))));

        Assert.Contains("\"Properties\":{\"Point\":{\"X\":1,\"$type\":\"Point\"}}", line, StringComparison.Ordinal);
    }

    private static string Format(LogEvent logEvent)
    {
        using var output = new StringWriter();
        new ExpressionTemplate(LoggingSetup.JsonTemplate).Format(logEvent, output);
        return output.ToString();
    }

    private static string TextConsole(LogEvent logEvent)
    {
        using var output = new StringWriter();
        new MessageTemplateTextFormatter("{Message:lj}").Format(logEvent, output);
        return output.ToString();
    }

    private static LogEvent Event(string template, Exception? exception, params (string Name, LogEventPropertyValue Value)[] properties) =>
        new(At, LogEventLevel.Information, exception, new MessageTemplateParser().Parse(template),
            properties.Select(p => new LogEventProperty(p.Name, p.Value)));
}
