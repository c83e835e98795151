using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace EchoHost.Logging;

/// <summary>
/// <c>{Connection}</c> for the text template: <c> [0HN…]</c> on a line logged while a connection is served (its logging
/// scope carries <c>ConnectionId</c>), so two clients' payload lines can be told apart; empty on every other line, which
/// looks as it always did. A message that names the id in its own text (accepted, closed) does not get it twice.
/// </summary>
internal sealed class ConnectionEnricher : ILogEventEnricher
{
    public const string PropertyName = "Connection";

    private const string ConnectionId = "ConnectionId";

    private static readonly LogEventProperty None = new(PropertyName, new ScalarValue(string.Empty));

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        var named = logEvent.Properties.TryGetValue(ConnectionId, out var value) && value is ScalarValue { Value: string id } && !NamesConnectionId(logEvent.MessageTemplate)
            ? new LogEventProperty(PropertyName, new ScalarValue($" [{id}]"))
            : None;
        logEvent.AddPropertyIfAbsent(named);
    }

    private static bool NamesConnectionId(MessageTemplate template)
    {
        foreach (var token in template.Tokens)
        {
            if (token is PropertyToken { PropertyName: ConnectionId })
            {
                return true;
            }
        }

        return false;
    }
}
