using System.Runtime.CompilerServices;
using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Irc;

namespace EchoHost.Protocols.Web;

/// <summary>
/// The chat and IRC connection handlers of one Web listener, made on its first WebSocket of each kind and shared by
/// the rest, as a TCP listener shares its handler. Each sees the Web listener as its listener (its name in logs and
/// metrics, its idle timeout) with the own keys of the host's first chat or IRC listener, or their defaults when there
/// is none: a WebSocket user gets the same greeting, and an IRC client the same server name and line limit, as on TCP.
/// </summary>
internal sealed class WebSocketLineHandlers
{
    private static readonly ConditionalWeakTable<WebListener, WebSocketLineHandlers> _byListener = new();

    private readonly WebListener _web;

    private WebSocketLineHandlers(WebListener web) => _web = web;

    public ChatConnectionHandler Chat => field ??= Create<ChatConnectionHandler, ChatListenerOptions>();

    public IrcConnectionHandler Irc => field ??= Create<IrcConnectionHandler, IrcListenerOptions>();

    public static WebSocketLineHandlers Of(WebListener web) => _byListener.GetValue(web, static w => new WebSocketLineHandlers(w));

    // Two connections racing for the first handler may both make one: handlers hold no per-connection state.
    private THandler Create<THandler, TOptions>()
        where TOptions : class, new()
    {
        var own = _web.Services.GetRequiredService<ListenerSet>().All
            .FirstOrDefault(l => l.Protocol.ListenerOptions == typeof(TOptions))?.Own<TOptions>() ?? new TOptions();
        var listener = _web.Listener with { OwnOptions = own };
        return ActivatorUtilities.CreateInstance<THandler>(_web.Services, listener, _web.Metrics);
    }
}
